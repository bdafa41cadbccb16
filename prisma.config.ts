// Prisma CLI configuration. Two schemas share it: prisma/schema.prisma (SQLite)
// and prisma/postgres/schema.prisma, selected with --schema.
import { existsSync, readdirSync } from 'node:fs';
import { defineConfig } from 'prisma/config';

// `prisma generate` never runs the schema engine, but the CLI insists that its
// binary exists and tries to download it. Offline machines cannot, so point it
// at any existing file — only when no real engine is configured, so that
// `prisma migrate` keeps working where the download succeeds.
const enginesDir = new URL('./node_modules/@prisma/engines/', import.meta.url).pathname;
const hasRealEngine = existsSync(enginesDir) && readdirSync(enginesDir).some((f) => f.startsWith('schema-engine'));
if (!process.env.PRISMA_SCHEMA_ENGINE_BINARY && !hasRealEngine && process.argv.includes('generate')) {
  const placeholder = new URL('./package.json', import.meta.url).pathname;
  if (existsSync(placeholder)) process.env.PRISMA_SCHEMA_ENGINE_BINARY = placeholder;
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
