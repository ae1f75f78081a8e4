import { defineConfig } from 'drizzle-kit';

// drizzle-kit only generates SQL from the schema here; it never connects to a database.
// The emulators' ledger (src/emulators/schema.ts) is not the hub's schema, but lives in the same
// database and migrations, so both are listed.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/db/schema/index.ts', './src/emulators/schema.ts'],
  out: './drizzle',
  casing: 'snake_case',
});
