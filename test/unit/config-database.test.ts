import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';

/** DATABASE_URL with one host or several (a primary and its standbys), and DATABASE_READ_URL for reports. */
const refusal = (env: Record<string, string>) => {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return null;
};

describe('DATABASE_URL', () => {
  it('takes one host, or several as libpq and postgres.js read them, with their parameters', () => {
    for (const url of [
      'postgres://hub@db:5432/hub',
      'postgresql://hub:secret@db1:5433,db2:5434/hub?target_session_attrs=read-write',
      'postgres://hub@10.0.0.1,10.0.0.2/hub?target_session_attrs=primary&sslmode=require',
      'postgres://hub@[::1]:5432,db2/hub',
    ]) {
      const config = parseConfig({ DATABASE_URL: url });
      expect(config.database).toMatchObject({ kind: 'server', url, readUrl: undefined });
    }
  });

  it('refuses what is not a PostgreSQL URL, naming the variable', () => {
    for (const url of [
      'mysql://hub@db/hub',
      'postgres://hub@db1:5433,/hub',
      'postgres://hub@db1:99999/hub',
      'postgres://hub@db1:5433,db2:x/hub',
    ]) {
      expect(refusal({ DATABASE_URL: url }), url).toMatch(/DATABASE_URL/);
    }
  });
});

describe('DATABASE_READ_URL', () => {
  it('names the replica reports read', () => {
    const config = parseConfig({ DATABASE_URL: 'postgres://hub@db1,db2/hub', DATABASE_READ_URL: 'postgres://reports@db2:5432/hub' });
    expect(config.database).toMatchObject({ readUrl: 'postgres://reports@db2:5432/hub' });
  });

  it('is refused without DATABASE_URL (the embedded database has no replica), and when not a PostgreSQL URL', () => {
    expect(refusal({ DATABASE_READ_URL: 'postgres://reports@db2/hub' })).toMatch(/DATABASE_READ_URL/);
    expect(refusal({ DATABASE_URL: 'postgres://hub@db1/hub', DATABASE_READ_URL: 'http://db2/hub' })).toMatch(/DATABASE_READ_URL/);
  });
});
