import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from './config.ts';
import { createMessages } from './bot/messages.ts';
import { detectFormat, FORMATS, type BankFormat } from './features/quiz/bank/file-format.ts';
import { renderProblems } from './features/quiz/bank/problems.ts';
import { createQuestionBank, type ImportResult } from './features/quiz/bank/repository.ts';
import { importStarterBank } from './features/quiz/bank/starter-bank.ts';
import { HolidayImportError, parseHolidayInput } from './features/calendar/holiday-notice.ts';
import { createHolidayStore } from './features/calendar/holiday-store.ts';
import { bindWorkingDays, createWorkingDays } from './features/calendar/working-days.ts';
import { createSystemClock } from './lib/clock.ts';
import { openDatabase, type Database } from './lib/db.ts';
import { createMigrator, migrationsDir } from './lib/migrator.ts';

/**
 * The operator's command line. Opens the same database as the app (same
 * DATABASE_URL, same migrations), so it works on a running installation:
 *
 *   npm run cli -- questions import bank.xlsx [--org <id>] [--skip-duplicates]
 *   npm run cli -- questions export out.xlsx [--org <id>] [--tag 党史] [--format csv]
 *   npm run cli -- questions stats [--org <id>]
 *   npm run cli -- questions starter [--org <id>]
 *   npm run cli -- orgs
 *   npm run cli -- holidays import 2027.json|notice.txt [--year 2027]
 *   npm run cli -- holidays show 2027 | holidays remove 2027 | holidays log
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const USAGE = `Usage:
  npm run cli -- questions import <file.xlsx|.csv|.json> [--org <id>] [--skip-duplicates]
  npm run cli -- questions export <file.xlsx|.csv|.json> [--org <id>] [--tag <tag>] [--format xlsx|csv|json]
  npm run cli -- questions stats [--org <id>]
  npm run cli -- questions starter [--org <id>]     import the starter bank shipped in data-seed/
  npm run cli -- orgs                               list organisations and their ids
  npm run cli -- holidays import <2027.json|notice.txt> [--year 2027]
                                                    import a year of holidays (holiday-cn JSON or the State Council notice)
  npm run cli -- holidays show <year>               the year's days off and extra working days, and where they come from
  npm run cli -- holidays remove <year>             remove an imported year
  npm run cli -- holidays log                       imports and removals
The database is the app's: DATABASE_URL (default file:./data/shuxiang.db).`;

export interface CliIo {
  env: Record<string, string | undefined>;
  /** Where relative file names are resolved (npm run changes cwd to the project root). */
  cwd: string;
  out(line: string): void;
  err(line: string): void;
}

class CliError extends Error {}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        org: { type: 'string' },
        tag: { type: 'string' },
        format: { type: 'string' },
        year: { type: 'string' },
        'skip-duplicates': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.err(e instanceof Error ? e.message : String(e));
    io.err(USAGE);
    return 64;
  }
  const { values, positionals } = parsed;
  const [area, verb, file] = positionals;
  if (values.help || !area) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? 0 : 64;
  }
  if (area === 'holidays') return runHolidays(verb, file, positionals.length, values.year, io);
  const known =
    (area === 'orgs' && verb === undefined) ||
    (area === 'questions' &&
      ((verb === 'import' && file) || (verb === 'export' && file) || verb === 'stats' || verb === 'starter'));
  if (
    !known ||
    positionals.length > (file ? 3 : 2) ||
    (area === 'questions' && !['import', 'export'].includes(verb!) && file)
  ) {
    io.err(`Unknown command: ${positionals.join(' ')}`);
    io.err(USAGE);
    return 64;
  }

  const opened = await openMigrated(io);
  if (typeof opened === 'number') return opened;
  const { db, messages } = opened;
  try {
    const bank = createQuestionBank({ db: db.prisma, clock: createSystemClock(), provider: db.provider });

    if (area === 'orgs') {
      const orgs = await listOrgs(db);
      if (orgs.length === 0) io.out('No organisations yet: start the bot once (npm start) or let a chat reach it.');
      for (const o of orgs) io.out(`${o.id}\t${o.name}\t${o.questions} questions`);
      return 0;
    }

    const org = await resolveOrg(db, values.org);
    const label = `${org.name} (${org.id})`;
    const problemsText = (r: Extract<ImportResult, { ok: false }>) => renderProblems(r.problems, messages.t);

    if (verb === 'import' || verb === 'starter') {
      let result: ImportResult;
      let name: string;
      if (verb === 'starter') {
        name = 'data-seed/starter-bank.json';
        result = await importStarterBank(bank, org.id, ROOT);
      } else {
        const full = path.resolve(io.cwd, file!);
        name = file!;
        let bytes: Buffer;
        try {
          bytes = readFileSync(full);
        } catch (e) {
          throw new CliError(`Cannot read ${full}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        }
        result = await bank.importFile(org.id, { name: full, bytes }, { skipExisting: values['skip-duplicates'] });
      }
      if (!result.ok) {
        io.err(`${name}: ${result.problems.length} problem(s); nothing was imported.`);
        io.err(problemsText(result));
        if (result.problems.some((p) => p.key === 'bank.row.duplicate_in_bank')) {
          io.err('To import only the questions the bank does not have yet, add --skip-duplicates.');
        }
        return 1;
      }
      io.out(`Imported ${result.imported} question(s) from ${name} into ${label}.`);
      if (result.skipped.length > 0) {
        const lines = result.skipped.map((s) => s.line);
        const shown = lines.slice(0, 20).join(', ') + (lines.length > 20 ? ', …' : '');
        io.out(`Skipped ${lines.length} already in the bank (line${lines.length > 1 ? 's' : ''} ${shown}).`);
      }
      if (result.repeats.length > 0) {
        const lines = result.repeats.map((r) => `${r.line} (= ${r.other})`);
        const shown = lines.slice(0, 20).join(', ') + (lines.length > 20 ? ', …' : '');
        io.out(
          `Skipped ${lines.length} repeating an earlier row of the file (line${lines.length > 1 ? 's' : ''} ${shown}).`,
        );
      }
      io.out(`The bank now holds ${await bank.count(org.id)} active question(s).`);
      return 0;
    }

    if (verb === 'export') {
      const full = path.resolve(io.cwd, file!);
      const format = (values.format ?? detectFormat(full)) as BankFormat | undefined;
      if (!format || !FORMATS.includes(format)) {
        throw new CliError(`Cannot tell the format of ${file}: name it .xlsx, .csv or .json, or pass --format.`);
      }
      const { bytes, count } = await bank.exportFile(org.id, format, { tag: values.tag });
      writeFileSync(full, bytes);
      io.out(`Exported ${count} question(s) from ${label} to ${full}.`);
      return 0;
    }

    // stats
    const s = await bank.stats(org.id);
    io.out(`${label}: ${s.total} active question(s)`);
    io.out(
      `  single ${s.byType.single}, multiple ${s.byType.multiple}, true/false ${s.byType.truefalse}, fill-in ${s.byType.fill}` +
        (s.retired ? `; ${s.retired} retired` : ''),
    );
    for (const t of s.byTag) io.out(`  ${t.tag}\t${t.count}`);
    if (s.untagged) io.out(`  (no tag)\t${s.untagged}`);
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      io.err(e.message);
      return 1;
    }
    throw e;
  } finally {
    await db.close();
  }
}

/** `holidays …`: the same store and parser as `节假日` in chat; running instances see a change within seconds. */
async function runHolidays(
  verb: string | undefined,
  arg: string | undefined,
  count: number,
  yearOption: string | undefined,
  io: CliIo,
): Promise<number> {
  const ok =
    ((verb === 'import' || verb === 'show' || verb === 'remove') && arg && count === 3) ||
    (verb === 'log' && count === 2);
  if (!ok) {
    io.err(`Unknown command: holidays ${[verb, arg].filter(Boolean).join(' ')}`);
    io.err(USAGE);
    return 64;
  }
  const opened = await openMigrated(io);
  if (typeof opened === 'number') return opened;
  const { db, messages } = opened;
  try {
    const clock = createSystemClock();
    const workingDays = await bindWorkingDays(createWorkingDays(), db.prisma);
    const store = createHolidayStore({ db: db.prisma, clock });
    const operator = { memberId: null, name: 'cli', orgId: null };
    const yearOf = (text: string) => {
      if (!/^\d{4}$/.test(text)) throw new CliError(`Not a year: ${text}`);
      return Number(text);
    };
    if (verb === 'import') {
      const full = path.resolve(io.cwd, arg!);
      let raw: string;
      try {
        raw = readFileSync(full, 'utf8');
      } catch (e) {
        throw new CliError(`Cannot read ${full}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      let parsed;
      try {
        parsed = parseHolidayInput(raw, yearOption ? yearOf(yearOption) : undefined);
      } catch (e) {
        if (e instanceof HolidayImportError) throw new CliError(`${arg}: ${messages.t(e.key, e.params)}`);
        throw e;
      }
      const result = await store.confirm({
        year: parsed.year,
        days: parsed.days,
        source: raw.trimStart().startsWith('{') ? 'holiday-cn' : 'notice',
        base: await store.revision(parsed.year),
        actor: operator,
        before: workingDays.year(parsed.year)?.days ?? [],
      });
      if (!result.ok) throw new CliError(`${parsed.year} was changed by someone else meanwhile; run the import again.`);
      const off = parsed.days.filter((d) => d.off).length;
      io.out(
        `${result.action === 'import' ? 'Imported' : 'Replaced'} ${parsed.year}: ${off} day(s) off, ${parsed.days.length - off} extra working day(s) (${result.added.length} added, ${result.removed.length} removed against what was answered before).`,
      );
      io.out('Running instances use it within seconds; waiting reminders and daily practice resume within a minute.');
      return 0;
    }
    if (verb === 'show') {
      const year = workingDays.year(yearOf(arg!));
      if (!year) throw new CliError(`No holiday data for ${arg}.`);
      const s = year.source;
      io.out(
        `${year.year}: ${s.kind === 'bundled' ? 'bundled chinese-days data' : `imported by ${s.byName ?? 'cli'} at ${s.at.toISOString()} (${s.source}, revision ${s.revision})`}`,
      );
      for (const d of year.days) io.out(`  ${d.date}\t${d.off ? 'off' : 'work'}\t${d.name}`);
      return 0;
    }
    if (verb === 'remove') {
      const year = yearOf(arg!);
      if (!(await store.remove(year, operator, []))) throw new CliError(`${year} has no imported data.`);
      io.out(`Removed the imported ${year}.`);
      return 0;
    }
    for (const r of await store.audit(50)) {
      io.out(`${r.at.toISOString()}\t${r.action}\t${r.year}\t${r.actorName ?? ''}\t${r.detail}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      io.err(e.message);
      return 1;
    }
    throw e;
  } finally {
    await db.close();
  }
}

/** The configured database, migrated; or the exit code (78) after saying what is wrong with the configuration. */
async function openMigrated(
  io: CliIo,
): Promise<{ db: Database; messages: ReturnType<typeof createMessages> } | number> {
  let config;
  try {
    config = loadConfig(io.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(e.message);
      return 78;
    }
    throw e;
  }
  const db = await openDatabase(config.databaseUrl, { poolSize: config.databasePoolSize });
  try {
    await createMigrator(db, migrationsDir(db.provider, ROOT)).migrate();
  } catch (err) {
    await db.close();
    throw err;
  }
  return { db, messages: createMessages() };
}

async function listOrgs(db: Database) {
  const orgs = await db.prisma.organisation.findMany({ orderBy: { createdAt: 'asc' } });
  const counts = await db.prisma.question.groupBy({
    by: ['orgId'],
    where: { status: 'active' },
    _count: { _all: true },
  });
  return orgs.map((o) => ({
    id: o.id,
    name: o.name,
    questions: counts.find((c) => c.orgId === o.id)?._count._all ?? 0,
  }));
}

/** --org, or the only organisation there is; several need --org so nobody imports into the wrong one. */
async function resolveOrg(db: Database, id: string | undefined): Promise<{ id: string; name: string }> {
  if (id) {
    const org = await db.prisma.organisation.findUnique({ where: { id } });
    if (!org) throw new CliError(`No organisation with id ${id}. List them with: npm run cli -- orgs`);
    return org;
  }
  const orgs = await db.prisma.organisation.findMany({ orderBy: { createdAt: 'asc' }, take: 20 });
  if (orgs.length === 1) return orgs[0]!;
  if (orgs.length === 0) {
    throw new CliError('There is no organisation yet: start the bot once (npm start) or let a chat reach it first.');
  }
  throw new CliError(
    `There are several organisations; choose one with --org <id>:\n${orgs.map((o) => `  ${o.id}\t${o.name}`).join('\n')}`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runCli(process.argv.slice(2), {
    env: process.env,
    cwd: process.env.INIT_CWD ?? process.cwd(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : e);
      process.exit(1);
    },
  );
}
