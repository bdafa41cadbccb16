// Start-up benchmark: time from process start to /readyz answering 200, and
// the resident memory once ready, on a fresh SQLite database (so the time
// includes creating and migrating it and seeding the demo organisation).
//   npm run bench:startup [-- runs]
// Targets (issue 2): start→ready under 3 s, RSS under 150 MB.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeStart, startCommand } from './shipped-build.ts';

const runs = Number(process.argv[2] ?? 5);
// What `npm start` runs (package.json): its environment and node flags, so the bench measures what users run.
const start = startCommand();
const nodeFlags = [...start.flags, ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function once(): Promise<{ readyMs: number; rssMb: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shuxiang-bench-'));
  const port = await freePort();
  const started = performance.now();
  // What `npm start` runs after its build step, in one process so its RSS is the server's.
  const child = spawn(process.execPath, [...nodeFlags, 'dist/main.js'], {
    env: { ...process.env, ...start.env, PORT: String(port), DATABASE_URL: `file:${dir}/bench.db`, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const readyMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 300)); // let start-up garbage settle
    return { readyMs, rssMb: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
const results: { readyMs: number; rssMb: number }[] = [];
for (let i = 0; i < runs; i++) results.push(await once());
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ready = median(results.map((r) => r.readyMs));
const rss = median(results.map((r) => r.rssMb));
console.log(`runs: ${runs}  (${describeStart({ env: start.env, flags: nodeFlags })} dist/main.js)`);
console.log(
  `start→ready  median ${ready.toFixed(0)} ms  (runs: ${results.map((r) => r.readyMs.toFixed(0)).join(', ')})`,
);
console.log(`RSS at ready median ${rss.toFixed(1)} MB  (runs: ${results.map((r) => r.rssMb.toFixed(1)).join(', ')})`);
console.log(`ratio to target: start ${(ready / 3000).toFixed(2)} of 3 s, memory ${(rss / 150).toFixed(2)} of 150 MB`);
console.log(ready < 3000 && rss < 150 ? 'PASS' : 'FAIL');
