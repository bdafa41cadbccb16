import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

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
  it('SQLite and PostgreSQL schemas declare the same models, field for field', () => {
    const sqlite = models('prisma/schema.prisma');
    const postgres = models('prisma/postgres/schema.prisma');
    expect(sqlite.length).toBeGreaterThan(0);
    expect(postgres).toEqual(sqlite);
  });

  it('the migration snapshots match the schemas (no model change without a migration)', () => {
    expect(models('prisma/migrations/schema.snapshot.prisma')).toEqual(models('prisma/schema.prisma'));
    expect(models('prisma/postgres/migrations/schema.snapshot.prisma')).toEqual(
      models('prisma/postgres/schema.prisma'),
    );
  });
});
