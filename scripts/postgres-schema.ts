// Derives prisma/postgres/schema.prisma from prisma/schema.prisma, the one
// schema developers edit. Only the provider, the generated client's folder and
// the header differ; `npm run prisma:generate` runs this first, and
// test/unit/schema-parity.test.ts fails if the committed file is not what
// this produces.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE = path.join(ROOT, 'prisma/schema.prisma');
export const TARGET = path.join(ROOT, 'prisma/postgres/schema.prisma');

const HEADER = [
  '// GENERATED from prisma/schema.prisma by scripts/postgres-schema.ts (npm run prisma:generate).',
  '// Do not edit: change prisma/schema.prisma and run `npm run prisma:generate`.',
];

/** The PostgreSQL schema for a given SQLite schema text. */
export function postgresSchema(sqlite: string): string {
  const lines = sqlite.split('\n');
  // The source's leading comment describes the source; the generated file gets its own.
  let start = 0;
  while (start < lines.length && lines[start]!.startsWith('//')) start++;
  let body = lines.slice(start).join('\n');
  const swaps: [RegExp, string][] = [
    [/^(\s*output\s*=\s*)"\.\.\/src\/generated\/sqlite"/m, '$1"../../src/generated/postgres"'],
    [/^(\s*provider\s*=\s*)"sqlite"/m, '$1"postgresql"'],
  ];
  for (const [pattern, replacement] of swaps) {
    if (!pattern.test(body)) throw new Error(`prisma/schema.prisma: expected to find ${pattern}`);
    body = body.replace(pattern, replacement);
  }
  return `${HEADER.join('\n')}\n${body}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(TARGET, postgresSchema(readFileSync(SOURCE, 'utf8')));
}
