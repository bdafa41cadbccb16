// The benches' server processes run the bot as `npm start` runs it: bundled by esbuild the way
// `npm run build` bundles src/main.ts (packages external, node 20), in plain node with the environment
// and node flags of `npm start`. tsx, which runs the benches themselves, compiles TypeScript with
// keepNames (every named function goes through a `__name` helper, about 1 % of the bot's CPU
// in a profile) and loads modules through its own hooks; the bot is not deployed that way.
import { mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What `npm start` runs after its build (package.json): its environment assignments and node's own flags. */
export function startCommand(): { env: Record<string, string>; flags: string[] } {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const command = /((?:\w+=\S+\s+)*)\bnode\s+(.*?)\s*dist\/main\.js/.exec(pkg.scripts.start);
  if (!command)
    throw new Error('package.json: npm start no longer runs "node … dist/main.js"; update bench/shipped-build.ts');
  const words = (s: string) => s.split(/\s+/).filter(Boolean);
  return {
    env: Object.fromEntries(words(command[1]!).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)])),
    flags: words(command[2]!),
  };
}

/** `startCommand()` as one line, for the benches' output. */
export const describeStart = ({ env, flags }: ReturnType<typeof startCommand>) =>
  [...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'node', ...flags].join(' ');

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
