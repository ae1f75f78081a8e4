import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The wings of the house, checked on every import of src/ (as TypeScript reads them):
 * adapters speak protocols and persist nothing; the demo's outside world (src/emulators/) is
 * mounted by the Node entry only, and speaks the protocols with its own code.
 */
const root = resolve(import.meta.dirname, '../..');
const src = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Every import of every file under src/, as `{ from, to }`: `to` is a path from the root for a relative import, else the package name. */
const imports = files(src).flatMap((file) =>
  ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map(({ fileName }) => ({
    from: relative(root, file),
    to: fileName.startsWith('.') ? relative(root, resolve(dirname(file), fileName)) : fileName,
  })),
);

const under = (path: string, folder: string) => path.startsWith(`${folder}/`);

describe('import boundaries', () => {
  it('sees the imports it checks (the Node entry mounting the emulators)', () => {
    expect(imports.length).toBeGreaterThan(300);
    expect(imports).toContainEqual({ from: 'src/node/emulators.ts', to: 'src/emulators/index.ts' });
    expect(imports).toContainEqual({ from: 'src/emulators/vnpay.ts', to: 'drizzle-orm' });
  });

  it('no file under src/gateways/ imports the configuration, the database, web pages, drizzle or the emulators', () => {
    // An allow-list: the adapters' own folder, the domain, and the libraries a protocol needs.
    const allowedPackages = new Set(['zod', 'qrcode/lib/browser.js']);
    const forbidden = imports.filter(
      ({ from, to }) => under(from, 'src/gateways') && !under(to, 'src/gateways') && !under(to, 'src/domain') && !allowedPackages.has(to),
    );
    expect(forbidden).toEqual([]);
  });

  it('only the Node entry (src/server.ts, src/node/) imports src/emulators/', () => {
    const forbidden = imports.filter(
      ({ from, to }) => under(to, 'src/emulators') && !under(from, 'src/emulators') && from !== 'src/server.ts' && !under(from, 'src/node'),
    );
    expect(forbidden).toEqual([]);
  });

  it('the emulators speak the protocols with their own code, none of the adapters', () => {
    expect(imports.filter(({ from, to }) => under(from, 'src/emulators') && under(to, 'src/gateways'))).toEqual([]);
  });
});
