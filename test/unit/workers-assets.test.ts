import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCALAR_BUNDLE_CACHE_CONTROL, SCALAR_BUNDLE_PATH, SCALAR_VERSION } from '../../src/http/routes/docs.ts';
import { scalarBundleFile, WORKERS_ASSETS_DIR, writeWorkersAssets } from '../../src/node/docs-asset.ts';

/**
 * On Workers, /docs's Scalar bundle is a static asset: `npm run build:assets` writes it where
 * wrangler.toml's `[assets]` serves it, at the path the page loads, cached for good.
 */
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('the Workers static assets', () => {
  it('hold the bundle at the path /docs loads, with a _headers file caching it for good', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'assets-'));
    dirs.push(dir);
    const paths = { bundlePath: SCALAR_BUNDLE_PATH, version: SCALAR_VERSION, cacheControl: SCALAR_BUNDLE_CACHE_CONTROL };
    await writeWorkersAssets(dir, paths);
    const bundle = join(dir, SCALAR_BUNDLE_PATH);
    expect((await stat(bundle)).size).toBe((await stat(scalarBundleFile())).size);
    const headers = await readFile(join(dir, '_headers'), 'utf8');
    expect(headers).toBe(`/docs/assets/*\n  Cache-Control: ${SCALAR_BUNDLE_CACHE_CONTROL}\n  X-Content-Type-Options: nosniff\n`);
    await expect(writeWorkersAssets(dir, { ...paths, version: '0.0.1' })).rejects.toThrow(/package\.json pins 0\.0\.1/);
  });

  it('are the directory wrangler.toml deploys', async () => {
    const wrangler = await readFile(new URL('../../wrangler.toml', import.meta.url), 'utf8');
    expect(wrangler).toMatch(new RegExp(`\\[assets\\]\\ndirectory = "\\./${WORKERS_ASSETS_DIR}"`));
  });
});
