import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Scalar's browser bundle for /docs, from node_modules. The package exports no path to it, so it
 * is found beside the package's entry point (dist/index.js → dist/browser/standalone.js): the
 * one-file build that loads no further chunks, which a nonce-based CSP needs.
 */
function scalarDist(): string {
  return dirname(createRequire(import.meta.url).resolve('@scalar/api-reference'));
}

export function scalarBundleFile(): string {
  return join(scalarDist(), 'browser', 'standalone.js');
}

/** The version installed, which must be the one package.json pins (it names the asset). */
export async function installedScalarVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(join(scalarDist(), '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** Reads the bundle (about 5 MB) once, at its first request, and keeps it. */
export function scalarBundleReader(): () => Promise<Uint8Array<ArrayBuffer>> {
  let bytes: Promise<Uint8Array<ArrayBuffer>> | undefined;
  return () =>
    (bytes ??= readFile(scalarBundleFile()).then(
      (buffer) => new Uint8Array(buffer),
      (error: unknown) => {
        bytes = undefined; // a later request tries again
        throw error;
      },
    ));
}

/** Where `npm run build:assets` writes, and what wrangler.toml's `[assets]` serves. */
export const WORKERS_ASSETS_DIR = 'dist/assets';

/**
 * Fills a Workers Static Assets directory: Scalar's bundle at the path /docs loads it from, and a
 * `_headers` file that caches it for good (Workers' own default would revalidate it every time).
 * Refuses an installed version other than the pinned one, which the path names.
 */
export async function writeWorkersAssets(
  dir: string,
  paths: { bundlePath: string; version: string; cacheControl: string },
): Promise<string[]> {
  const installed = await installedScalarVersion();
  if (installed !== paths.version) {
    throw new Error(`@scalar/api-reference ${installed} is installed, package.json pins ${paths.version}: run npm install`);
  }
  const bundle = join(dir, ...paths.bundlePath.split('/').filter(Boolean));
  await rm(dir, { recursive: true, force: true });
  await mkdir(dirname(bundle), { recursive: true });
  await copyFile(scalarBundleFile(), bundle);
  const headers = join(dir, '_headers');
  const prefix = paths.bundlePath.slice(0, paths.bundlePath.lastIndexOf('/') + 1);
  await writeFile(headers, `${prefix}*\n  Cache-Control: ${paths.cacheControl}\n  X-Content-Type-Options: nosniff\n`);
  return [bundle, headers];
}
