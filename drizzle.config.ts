import { defineConfig } from 'drizzle-kit';

// drizzle-kit only generates SQL from the schema here; it never connects to a database.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './drizzle',
  casing: 'snake_case',
});
