import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import { vnDate } from '../domain/dates.ts';
import type { SeedReport } from '../seed/index.ts';

/**
 * The embedded demo's database, migrated and seeded once at install (`npm install` runs
 * scripts/prepare-demo.ts), so that a fresh clone's `npm start` copies a folder instead of
 * migrating and loading 300 dossiers through the services one at a time (about 10 s). The copy is
 * taken only when it is exactly what this start would have made: the same day in Vietnam (the
 * demo's dates are relative to today), the same code and migrations, the same configuration;
 * otherwise the hub seeds as before. The template carries the secrets its receipts were signed
 * with, so it is taken only into a data folder that has none yet.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where the template lives: DEMO_TEMPLATE_DIR, else the project's node_modules cache (made by every install, never committed). */
export const demoTemplateDir = (env: NodeJS.ProcessEnv = process.env) =>
  env.DEMO_TEMPLATE_DIR || join(ROOT, 'node_modules', '.cache', 'fee-payment-hub', 'demo-db');

/** What the template was made from and of. */
interface TemplateFacts {
  fingerprint: string;
  /** The Vietnamese date it was seeded on. */
  day: string;
  builtAt: string;
  report: SeedReport;
}

/** The code's files that decide what the seed writes: every source file and migration. */
async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory()
        ? sourceFiles(join(dir, e.name))
        : Promise.resolve(e.name.endsWith('.ts') || e.name.endsWith('.sql') || e.name.endsWith('.json') ? [join(dir, e.name)] : []),
    ),
  );
  return nested.flat();
}

/**
 * What decides the demo data, other than the day: the code (src/, drizzle/) and the configuration
 * the seed reads (everything but where the data lives and which port listens; the public base
 * URL, printed on receipts, stays in).
 */
export async function demoFingerprint(config: Config): Promise<string> {
  const hash = createHash('sha256');
  const { dataDir: _dataDir, database: _database, port: _port, host: _host, ...seeded } = config;
  hash.update(JSON.stringify(seeded));
  const files = (await Promise.all(['src', 'drizzle'].map((d) => sourceFiles(join(ROOT, d))))).flat().sort();
  for (const file of files)
    hash
      .update(relative(ROOT, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Files copied at once: a database folder is a thousand small files, which one at a time take twice as long. */
const COPIES_AT_ONCE = 64;

async function copyFolder(from: string, to: string): Promise<void> {
  const entries = await readdir(from, { recursive: true, withFileTypes: true });
  await mkdir(to, { recursive: true });
  for (const e of entries) if (e.isDirectory()) await mkdir(join(to, relative(from, e.parentPath), e.name), { recursive: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(relative(from, e.parentPath), e.name));
  for (let k = 0; k < files.length; k += COPIES_AT_ONCE)
    await Promise.all(files.slice(k, k + COPIES_AT_ONCE).map((f) => copyFile(join(from, f), join(to, f))));
}

async function readFacts(dir: string): Promise<TemplateFacts | null> {
  try {
    return JSON.parse(await readFile(join(dir, 'template.json'), 'utf8')) as TemplateFacts;
  } catch {
    return null;
  }
}

/**
 * Copies the template into an embedded data folder that has neither a database nor secrets yet,
 * when it was made today by this code and configuration. Called with the folder's lock held.
 * Returns what was loaded, or why not (null: the folder is not new).
 */
export async function adoptDemoTemplate(
  config: Config,
  now: Date,
  dir = demoTemplateDir(),
): Promise<{ adopted: true; report: SeedReport } | { adopted: false; why: string } | null> {
  if (config.database.kind !== 'embedded') return null;
  const target = config.database.dataDir;
  const secrets = join(config.dataDir, 'secrets.json');
  const targetEntries = await readdir(target).catch(() => [] as string[]);
  if (targetEntries.length > 0 || (await exists(secrets))) return null;
  const facts = await readFacts(dir);
  if (!facts) return { adopted: false, why: `no demo template at ${dir}` };
  if (facts.day !== vnDate(now)) return { adopted: false, why: `the demo template is of ${facts.day}, not today` };
  if (facts.fingerprint !== (await demoFingerprint(config)))
    return { adopted: false, why: 'the demo template was made by other code or configuration' };
  await copyFolder(join(dir, 'pglite'), target);
  await mkdir(config.dataDir, { recursive: true });
  await copyFile(join(dir, 'secrets.json'), secrets);
  return { adopted: true, report: facts.report };
}

/**
 * Makes the template: `seed` migrates and seeds an embedded database in the folder it is given
 * (with secrets.json beside its pglite/ folder), exactly as a first start would. Made aside, then
 * renamed into place, so that a start never copies half a template.
 */
export async function buildDemoTemplate(
  config: Config,
  now: Date,
  seed: (dataDir: string) => Promise<SeedReport>,
  dir = demoTemplateDir(),
): Promise<TemplateFacts> {
  const aside = `${dir}.${process.pid}.tmp`;
  await rm(aside, { recursive: true, force: true });
  await mkdir(aside, { recursive: true });
  try {
    const report = await seed(aside);
    const facts: TemplateFacts = { fingerprint: await demoFingerprint(config), day: vnDate(now), builtAt: now.toISOString(), report };
    await writeFile(join(aside, 'template.json'), JSON.stringify(facts, null, 2));
    await rm(dir, { recursive: true, force: true });
    await rename(aside, dir);
    return facts;
  } catch (error) {
    await rm(aside, { recursive: true, force: true });
    throw error;
  }
}
