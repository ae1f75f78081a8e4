/**
 * `npm run build:assets`: the static assets of a Workers deployment (wrangler.toml `[assets]`),
 * run before `wrangler deploy`. Today one: Scalar's browser bundle for /docs, which is too big to
 * inline in the Worker and which the Node entry serves from node_modules instead.
 */
import { SCALAR_BUNDLE_CACHE_CONTROL, SCALAR_BUNDLE_PATH, SCALAR_VERSION } from '../src/http/routes/docs.ts';
import { WORKERS_ASSETS_DIR, writeWorkersAssets } from '../src/node/docs-asset.ts';

try {
  const written = await writeWorkersAssets(WORKERS_ASSETS_DIR, {
    bundlePath: SCALAR_BUNDLE_PATH,
    version: SCALAR_VERSION,
    cacheControl: SCALAR_BUNDLE_CACHE_CONTROL,
  });
  console.log(JSON.stringify({ msg: 'workers assets written', files: written }));
} catch (error) {
  console.error(`build:assets: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
