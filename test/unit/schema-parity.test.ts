import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { postgresSchema } from '../../scripts/postgres-schema.ts';

/** The model part of a schema file: everything after the generator and datasource blocks. */
function models(file: string): string {
  const text = readFileSync(file, 'utf8');
  const blocks = text.split(/\n(?=model |enum )/).slice(1);
  return blocks
    .map((b) =>
      b
        .replace(/\/\/[^\n]*/g, '')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .join('\n');
}

describe('schema parity', () => {
  it('the PostgreSQL schema is generated from prisma/schema.prisma, not edited by hand', () => {
    const generated = postgresSchema(readFileSync('prisma/schema.prisma', 'utf8'));
    const committed = readFileSync('prisma/postgres/schema.prisma', 'utf8');
    // On failure: edit prisma/schema.prisma only, then run `npm run prisma:generate`.
    expect(committed, 'prisma/postgres/schema.prisma is stale: run npm run prisma:generate').toBe(generated);
    expect(committed).toContain('provider = "postgresql"');
    expect(models('prisma/postgres/schema.prisma')).toEqual(models('prisma/schema.prisma'));
  });

  it('refuses a source schema it cannot translate instead of writing a wrong one', () => {
    expect(() => postgresSchema('datasource db {\n  provider = "mysql"\n}\n')).toThrow(/expected to find/);
  });

  it('the migration snapshots match the schemas (no model change without a migration)', () => {
    expect(models('prisma/migrations/schema.snapshot.prisma')).toEqual(models('prisma/schema.prisma'));
    expect(models('prisma/postgres/migrations/schema.snapshot.prisma')).toEqual(
      models('prisma/postgres/schema.prisma'),
    );
  });
});
