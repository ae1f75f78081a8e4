import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { adoptDemoTemplate, demoFingerprint } from '../../src/node/demo-template.ts';

/** When a first start takes the install's demo database, and when it seeds instead (the copy itself: test/e2e/demo-template.test.ts). */
describe('the demo template, taken or not', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'demo-template-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const now = new Date('2026-12-05T03:00:00Z'); // 10:00 in Vietnam
  let n = 0;

  /** A template of `day` and `fingerprint`, and a config whose data folder is new. */
  function setUp(facts: { day: string; fingerprint?: string }, env: Record<string, string> = {}) {
    const dir = join(scratch, `case-${++n}`);
    const template = join(dir, 'template');
    mkdirSync(join(template, 'pglite'), { recursive: true });
    writeFileSync(join(template, 'pglite', 'PG_VERSION'), '17');
    writeFileSync(join(template, 'secrets.json'), '{}');
    const config = parseConfig({ DATA_DIR: join(dir, 'data'), ...env });
    return {
      template,
      config,
      write: (fingerprint: string) =>
        writeFileSync(join(template, 'template.json'), JSON.stringify({ ...facts, fingerprint, report: { dossiers: 300 } })),
    };
  }

  it("is taken into a new data folder when it is today's and made by this code and configuration", async () => {
    const { template, config, write } = setUp({ day: '2026-12-05' });
    write(await demoFingerprint(config));
    expect(await adoptDemoTemplate(config, now, template)).toEqual({ adopted: true, report: { dossiers: 300 } });
    expect(readdirSync(join(config.dataDir, 'pglite'))).toEqual(['PG_VERSION']);
    expect(readdirSync(config.dataDir).sort()).toEqual(['pglite', 'secrets.json']);
  });

  it("is left when it is another day's (the demo's dates are today's), or another configuration's, or missing", async () => {
    const old = setUp({ day: '2026-12-04' });
    old.write(await demoFingerprint(old.config));
    expect(await adoptDemoTemplate(old.config, now, old.template)).toEqual({
      adopted: false,
      why: 'the demo template is of 2026-12-04, not today',
    });

    const other = setUp({ day: '2026-12-05' }, { RECEIPT_SERIES_LETTERS: 'HQ' });
    other.write(await demoFingerprint(parseConfig({ DATA_DIR: other.config.dataDir })));
    expect(await adoptDemoTemplate(other.config, now, other.template)).toMatchObject({
      adopted: false,
      why: expect.stringContaining('other code or configuration'),
    });

    const none = setUp({ day: '2026-12-05' });
    expect(await adoptDemoTemplate(none.config, now, none.template)).toMatchObject({
      adopted: false,
      why: expect.stringContaining('no demo template'),
    });
    for (const c of [old, other, none]) expect(readdirSync(join(c.config.dataDir, '..'))).toEqual(['template']);
  });

  it('never touches a data folder that has a database or secrets already', async () => {
    const { template, config, write } = setUp({ day: '2026-12-05' });
    write(await demoFingerprint(config));
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(join(config.dataDir, 'secrets.json'), '{"jwtSecret":"mine"}');
    expect(await adoptDemoTemplate(config, now, template)).toBeNull();
    expect(readdirSync(config.dataDir)).toEqual(['secrets.json']);
  });
});
