import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';

/**
 * Where the Node server listens: the embedded demo only on this machine (its emulator pages
 * "pay" anything for whoever reaches them), a server-database hub on every interface, as a
 * container needs; HOST overrides either.
 */
describe('HOST', () => {
  const server = { DATABASE_URL: 'postgres://hub@db:5432/hub' };

  it('defaults to 127.0.0.1 on the embedded database', () => {
    expect(parseConfig({}).host).toBe('127.0.0.1');
    expect(parseConfig({ HOST: '  ' }).host).toBe('127.0.0.1');
  });

  it('defaults to 0.0.0.0 on a server database', () => {
    expect(parseConfig(server).host).toBe('0.0.0.0');
  });

  it('is what HOST says, on either', () => {
    expect(parseConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(parseConfig({ ...server, HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
    expect(parseConfig({ HOST: '::1' }).host).toBe('::1');
  });
});
