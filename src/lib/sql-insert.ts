import { execOf, type Db, type Provider, type SqlExec, type SyncSql, type Tx } from './db.ts';

/**
 * Multi-row INSERT for both providers, with the rows travelling as one JSON
 * parameter that the database expands (SQLite json_each, PostgreSQL
 * json_to_recordset). Thousands of rows cost one bound value instead of
 * thousands (SQLite caps bound parameters at 32,766; binding them is where
 * the time went), and the statement text never changes with the batch size.
 */

/** A column filled from each row: name, PostgreSQL type, the row's property (defaults to the name). */
export type RowColumn = readonly [name: string, pgType: string, key?: string];
/** A column with one value for the whole statement, bound as a parameter before the rows. */
export type ConstantColumn = readonly [name: string, pgType: string];

export interface JsonInsertSpec {
  table: string;
  columns: readonly RowColumn[];
  constants?: readonly ConstantColumn[];
  /** e.g. `ON CONFLICT DO NOTHING`, `ON CONFLICT (...) DO UPDATE SET ...`. */
  onConflict?: string;
  /** Column list to return; without it the statement is executed, not queried. */
  returning?: string;
  /** Rows per statement (default 2,000), so one statement's JSON stays a modest size. */
  rowsPerStatement?: number;
}

export interface JsonInsert<Row extends object> {
  readonly sql: string;
  /**
   * Writes `rows` in order, one statement per chunk, binding `constants` (as
   * in the spec) to each; returns the RETURNING rows of all chunks (empty
   * without `returning`).
   */
  run<R = unknown>(db: Db | Tx | SqlExec, rows: readonly Row[], ...constants: unknown[]): Promise<R[]>;
  /** The same inside `SqlExec.transactionSync`. */
  runSync<R = unknown>(sync: SyncSql, rows: readonly Row[], ...constants: unknown[]): R[];
}

const quote = (name: string) => `"${name}"`;

/** The parts every form of the insert shares: its constants, column list and conflict/returning tail. */
function insertParts(spec: JsonInsertSpec) {
  const consts = spec.constants ?? [];
  const names = [...spec.columns.map(([n]) => n), ...consts.map(([n]) => n)].map(quote).join(', ');
  const tail = [spec.onConflict ?? '', spec.returning ? `RETURNING ${spec.returning}` : ''].join(' ').trim();
  return { consts, names, tail };
}

export function jsonInsertSql(provider: Provider, spec: JsonInsertSpec): string {
  const { consts, names, tail } = insertParts(spec);
  if (provider === 'postgresql') {
    const picks = [
      ...spec.columns.map(([n, , k]) => `x.${quote(k ?? n)}`),
      ...consts.map(([, t], i) => `$${i + 1}::${t}`),
    ].join(', ');
    const types = spec.columns.map(([n, t, k]) => `${quote(k ?? n)} ${t}`).join(', ');
    return `INSERT INTO ${quote(spec.table)} (${names}) SELECT ${picks} FROM json_to_recordset($${consts.length + 1}::json) AS x(${types}) ${tail}`.trim();
  }
  // Placeholders bind in text order: the constants' `?` come before json_each's.
  // WHERE true: SQLite needs it to tell an upsert clause from a join.
  const picks = [...spec.columns.map(([n, , k]) => `value->>'${k ?? n}'`), ...consts.map(() => '?')].join(', ');
  return `INSERT INTO ${quote(spec.table)} (${names}) SELECT ${picks} FROM json_each(?) WHERE true ${tail}`.trim();
}

/**
 * The same insert for one row with bound values: what runSync executes per row.
 * Inside a synchronous transaction a prepared statement's call costs less than
 * json_each's parsing, which re-reads a row's JSON text for each column
 * (25-35 against 54 µs a row for QuizAnswer's 14 columns; docs/decisions/feishu.md).
 */
export function rowInsertSql(spec: JsonInsertSpec): string {
  const { consts, names, tail } = insertParts(spec);
  const marks = Array.from({ length: spec.columns.length + consts.length }, () => '?').join(', ');
  return `INSERT INTO ${quote(spec.table)} (${names}) VALUES (${marks}) ${tail}`.trim();
}

/** A row's value as json_each's `->>` would have given it to SQLite. */
const sqliteValue = (v: unknown) =>
  v === undefined
    ? null
    : typeof v === 'boolean'
      ? Number(v)
      : v !== null && typeof v === 'object' && !(v instanceof Date)
        ? JSON.stringify(v)
        : v;

export function jsonInsert<Row extends object>(provider: Provider, spec: JsonInsertSpec): JsonInsert<Row> {
  const sql = jsonInsertSql(provider, spec);
  const rowSql = rowInsertSql(spec);
  const keys = spec.columns.map(([n, , k]) => k ?? n);
  const size = spec.rowsPerStatement ?? 2000;
  /** The rows as one JSON parameter per statement (none for no rows; one uncopied for a few). */
  const chunks = (rows: readonly Row[]): string[] =>
    rows.length <= size
      ? rows.length
        ? [JSON.stringify(rows)]
        : []
      : Array.from({ length: Math.ceil(rows.length / size) }, (_, i) =>
          JSON.stringify(rows.slice(i * size, (i + 1) * size)),
        );
  return {
    sql,
    async run<R>(db: Db | Tx | SqlExec, rows: readonly Row[], ...constants: unknown[]): Promise<R[]> {
      const exec = execOf(db);
      const out: R[] = [];
      for (const json of chunks(rows)) {
        if (spec.returning) out.push(...(await exec.query<R>(sql, ...constants, json)));
        else await exec.execute(sql, ...constants, json);
      }
      return out;
    },
    runSync<R>(sync: SyncSql, rows: readonly Row[], ...constants: unknown[]): R[] {
      const out: R[] = [];
      for (const row of rows) {
        const args: unknown[] = keys.map((k) => sqliteValue((row as Record<string, unknown>)[k]));
        args.push(...constants);
        if (spec.returning) out.push(...sync.all<R>(rowSql, ...args));
        else sync.run(rowSql, ...args);
      }
      return out;
    },
  };
}

/** One statement of a write plan: an insert, its rows and its constants. */
export interface PlannedInsert {
  // Any row type: the plan's own code pairs each insert with its rows.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  insert: JsonInsert<any>;
  rows: readonly object[];
  constants?: readonly unknown[];
}

/**
 * Writes whose later statements depend on earlier ones' RETURNING rows,
 * written once for both ways of running them: a generator that yields each
 * insert and receives its returned rows. runPlan drives it through any
 * client (a Prisma transaction on PostgreSQL); runPlanSync inside
 * `SqlExec.transactionSync` on SQLite, where the whole plan then holds the
 * connection for its CPU time only, not across the event loop's turns.
 */
export type WritePlan<T> = Generator<PlannedInsert, T, unknown[]>;

export async function runPlan<T>(db: Db | Tx | SqlExec, plan: WritePlan<T>): Promise<T> {
  let step = plan.next([]);
  while (!step.done) {
    const { insert, rows, constants = [] } = step.value;
    step = plan.next(rows.length ? await insert.run(db, rows, ...constants) : []);
  }
  return step.value;
}

export function runPlanSync<T>(sync: SyncSql, plan: WritePlan<T>): T {
  let step = plan.next([]);
  while (!step.done) {
    const { insert, rows, constants = [] } = step.value;
    step = plan.next(rows.length ? insert.runSync(sync, rows, ...constants) : []);
  }
  return step.value;
}

export { sqlStamp } from './db.ts';
