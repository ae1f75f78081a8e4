import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * The same app must run on Cloudflare Workers: bundling src/worker.ts as wrangler does (workerd
 * conditions) may pull in no Node built-in but the ones postgres.js's Workers build asks for
 * (under nodejs_compat), and never the embedded database.
 */
async function bundle(entry: string) {
  return build({
    entryPoints: [new URL(entry, import.meta.url).pathname],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser', 'import'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:sockets', 'node:*'],
    logLevel: 'silent',
  });
}

/**
 * csv-parse's WHATWG-stream entry (the statement upload's CSV parser) takes TransformStream and
 * CountQueuingStrategy from node:stream/web: the same classes as Workers' globals, which
 * nodejs_compat (wrangler.toml) serves under that name; its core uses the Buffer global, also there.
 */
const csvParseWebStreams = (file: string, path: string) =>
  file.endsWith('node_modules/csv-parse/lib/stream.js') && path === 'node:stream/web';

describe('the Workers bundle', () => {
  it('can draw VietQR codes (the QR library without its Node-only PNG renderer)', async () => {
    const result = await bundle('../../src/gateways/vietqr/qr-image.ts');
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((file) => file.includes('pngjs'))).toBe(false);
  });

  it('has no node:* imports of ours, no PGlite, no pino (Workers log through the console logger) and no emulator', async () => {
    const result = await bundle('../../src/worker.ts');
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((file) => file.includes('@electric-sql/pglite'))).toBe(false);
    expect(inputs.filter((file) => /node_modules\/(pino|sonic-boom|thread-stream)\//.test(file))).toEqual([]);
    expect(inputs.some((file) => file.includes('src/node/') || file.endsWith('src/db/migrate.ts'))).toBe(false);
    // The demo's outside world (the sandbox's checkout, the channel emulators) is Node's only.
    expect(inputs.filter((file) => file.includes('src/emulators/'))).toEqual([]);
    // ExcelJS is Node's only (src/node/spreadsheets.ts); CSV is written with csv-stringify's browser build.
    expect(inputs.filter((file) => file.includes('node_modules/exceljs/'))).toEqual([]);
    expect(inputs.some((file) => file.includes('node_modules/csv-stringify/dist/esm/'))).toBe(true);
    expect(inputs.some((file) => file.endsWith('src/app.ts'))).toBe(true);
    const nodeImports = new Set<string>();
    for (const [file, input] of Object.entries(result.metafile.inputs)) {
      for (const imported of input.imports) {
        if (imported.path.startsWith('node:') && !file.includes('node_modules/postgres/cf/') && !csvParseWebStreams(file, imported.path))
          nodeImports.add(`${file} → ${imported.path}`);
      }
    }
    expect([...nodeImports]).toEqual([]);
  });

  it("leaves Scalar's browser bundle out (a static asset on Workers) and stays small", async () => {
    const result = await bundle('../../src/worker.ts');
    const inputs = Object.keys(result.metafile.inputs);
    // The Hono integration renders /docs; the ~5 MB reference it loads is never in the Worker.
    expect(inputs.some((file) => file.includes('@scalar/hono-api-reference'))).toBe(true);
    expect(inputs.filter((file) => file.includes('@scalar/api-reference/'))).toEqual([]);
    const bytes = result.outputFiles!.reduce((n, f) => n + f.contents.byteLength, 0);
    // Unminified. The receipts' XML signature (xmldsigjs, issue 12) brings its X.509 library
    // (pkijs, asn1js: ~0.7 MB of it) along; Cloudflare's limit is on the compressed script
    // (3 MB on the free plan), which stays near a quarter of this.
    expect(bytes).toBeLessThan(4 * 1024 * 1024);
    expect(gzipSync(result.outputFiles![0]!.contents).byteLength).toBeLessThan(1.5 * 1024 * 1024);
  });
});
