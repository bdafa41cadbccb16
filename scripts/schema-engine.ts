// Loads Prisma's schema engine compiled to WebAssembly. The CLI's native
// schema-engine binary cannot be downloaded on offline machines, but the wasm
// build answers `diff`, which is all we need to write and check migrations.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';

export interface DiffTargetInput {
  tag: 'empty' | 'schemaDatamodel' | 'schemaDatasource';
  files?: { path: string; content: string }[];
  configDir?: string;
}

interface SchemaEngineLike {
  diff(params: unknown): Promise<{ exitCode: number; stdout?: string | null }>;
  free(): void;
}

let engineClass: Promise<EngineClass> | undefined;

// The wasm glue keeps module-level state: instantiate it once per process.
function loadEngineClass(): Promise<EngineClass> {
  engineClass ??= instantiate();
  return engineClass;
}

type EngineClass = {
  new: (opts: unknown, log: (msg: string) => void, adapter: object) => Promise<SchemaEngineLike>;
};

async function instantiate(): Promise<EngineClass> {
  const require = createRequire(import.meta.url);
  // The package's exports hide the glue; resolve its folder through package.json.
  const dir = path.dirname(require.resolve('@prisma/schema-engine-wasm'));
  const glue = (await import(pathToFileURL(path.join(dir, 'schema_engine_bg.js')).href)) as Record<string, unknown> & {
    __wbg_set_wasm: (w: unknown) => void;
    SchemaEngine: never;
  };
  const bytes = await readFile(path.join(dir, 'schema_engine_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, {
    './schema_engine_bg.js': glue as unknown as WebAssembly.ModuleImports,
  });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return glue.SchemaEngine;
}

/** Returns the SQL script that turns `from` into `to` (empty when they match). */
export async function diffSql(
  provider: 'sqlite' | 'postgresql',
  url: string,
  from: DiffTargetInput,
  to: DiffTargetInput,
): Promise<string> {
  const Engine = await loadEngineClass();
  const factory =
    provider === 'sqlite'
      ? new PrismaBetterSqlite3({ url: url.replace(/^file:/, '') })
      : new PrismaPg({ connectionString: url });
  const adapter = bindMigrationAwareSqlAdapterFactory(factory as never);
  let out: string;
  const engine = await Engine.new({ datamodels: undefined }, () => {}, adapter);
  try {
    const result = await engine.diff({
      from,
      to,
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    out = result.stdout ?? '';
  } finally {
    engine.free();
  }
  return out;
}
