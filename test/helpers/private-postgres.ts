import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

/**
 * A PostgreSQL cluster of the test's own (initdb + pg_ctl in a temporary
 * directory, on its own port), so a test may stop and restart it while the
 * app runs; the shared server on 5432 is never touched. PostgreSQL refuses to
 * run as root, so as root the cluster runs as the `postgres` OS user.
 */
export interface PrivatePostgres {
  url: string;
  port: number;
  /** `pg_ctl stop -m fast`: every connection is cut. Asynchronous, so the app keeps running meanwhile. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and deletes its directory. */
  destroy(): void;
}

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why a private cluster cannot be made here, or null when it can. */
export function privatePostgresUnavailable(): string | null {
  if (!existsSync(path.join(BIN, 'initdb'))) return `no initdb in ${BIN}`;
  if (userInfo().uid === 0) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'running as root and there is no postgres OS user to run the cluster';
    }
  }
  return null;
}

export function createPrivatePostgres(port = 55432): PrivatePostgres {
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'shuxiang-pg-'));
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const command = (bin: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(BIN, bin), ...args]] : [path.join(BIN, bin), args];
  const run = (bin: string, args: string[]) =>
    execFileSync(...command(bin, args), { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  const ctlArgs = (args: string[]) => ['-D', data, '-l', logFile, '-w', '-t', '30', ...args];
  const ctl = (...args: string[]) => run('pg_ctl', ctlArgs(args));
  const ctlAsync = async (...args: string[]) => {
    await promisify(execFile)(...command('pg_ctl', ctlArgs(args)), { timeout: 60_000 });
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  // Small and fast: tests only; a socket directory of its own so the shared server's is not touched.
  writeFileSync(
    path.join(data, 'postgresql.auto.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${dir}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'max_connections = 100',
      'shared_buffers = 32MB',
      '',
    ].join('\n'),
  );
  ctl('start');
  let alive = true;
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await ctlAsync('stop', '-m', 'fast');
      alive = false;
    },
    async start() {
      await ctlAsync('start');
      alive = true;
    },
    destroy() {
      try {
        if (alive) ctl('stop', '-m', 'immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
