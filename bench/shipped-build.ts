// The benches' server processes run the bot as `npm start` runs it: bundled by esbuild the way
// `npm run build` bundles src/main.ts (packages external, node 20), in plain node with the node
// flags of `npm start`. tsx, which runs the benches themselves, compiles TypeScript with
// keepNames (every named function goes through a `__name` helper, about 1 % of the bot's CPU
// in a profile) and loads modules through its own hooks; the bot is not deployed that way.
import { mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** node's own flags in `npm start` (package.json), e.g. the young generation's size. */
export function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const flags = /\bnode\s+(.*?)\s*dist\/main\.js/.exec(pkg.scripts.start);
  if (!flags)
    throw new Error('package.json: npm start no longer runs "node … dist/main.js"; update bench/shipped-build.ts');
  return flags[1]!.split(/\s+/).filter(Boolean);
}

/**
 * Bundles `entry` (a bench file that serves when forked) into .bench/ and returns the bundle's path.
 * Every module keeps its own import.meta.url (its source file's), so what a module finds beside
 * itself (cards/, migrations, test fixtures, the sandbox page) is found as under tsx, and
 * src/main.ts's "am I the entry point" check stays false.
 */
export async function bundleForBench(entry: string): Promise<string> {
  const out = path.join(ROOT, '.bench', `${path.basename(entry, '.ts')}.mjs`);
  mkdirSync(path.dirname(out), { recursive: true });
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    target: 'node20',
    logLevel: 'warning',
    plugins: [
      {
        name: 'own-import-meta-url',
        setup(b) {
          b.onLoad({ filter: /\.ts$/ }, async (file) => ({
            loader: 'ts',
            contents: (await readFile(file.path, 'utf8')).replaceAll(
              'import.meta.url',
              JSON.stringify(pathToFileURL(file.path).href),
            ),
          }));
        },
      },
    ],
  });
  return out;
}
