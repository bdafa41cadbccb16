import type { Db, Provider } from '../../../lib/db.ts';
import { isRawUniqueViolation, isUniqueViolation } from '../../../lib/db.ts';
import { newId } from '../../../lib/ids.ts';
import { yieldToLoop } from '../../../lib/loop-yield.ts';
import { jsonInsert, sqlStamp } from '../../../lib/sql-insert.ts';
import type { Clock } from '../../../lib/clock.ts';
import { readBankFile, writeBankFile, type BankFormat, type DraftWithLine } from './file-format.ts';
import type { ImportProblem } from './problems.ts';
import { decodeQuestion, encodeAnswer, questionOptionsColumn, type BankQuestion, type QuestionType } from './types.ts';

export interface ImportOptions {
  /** Leave out questions the bank already has instead of refusing the file. */
  skipExisting?: boolean;
}

export type ImportResult =
  | {
      ok: true;
      imported: number;
      /** Questions the bank already had, left out (skipExisting). */
      skipped: { line: number; stem: string }[];
      /** Rows repeating an earlier row of the same file, left out (skipExisting); the first is kept. */
      repeats: { line: number; other: number }[];
    }
  | { ok: false; problems: ImportProblem[] };

export interface BankStats {
  total: number;
  byType: Record<QuestionType, number>;
  byTag: { tag: string; count: number }[];
  untagged: number;
  retired: number;
}

export interface QuestionBank {
  /** All-or-nothing: either every draft is stored (minus skipped duplicates) or none is. */
  importDrafts(orgId: string, drafts: DraftWithLine[], opts?: ImportOptions): Promise<ImportResult>;
  /** Drops the staging rows of imports cut short (a crash) that started over `olderThanMs` ago; returns how many. */
  dropAbandonedImports(olderThanMs?: number): Promise<number>;
  /** Reads, validates and imports a file in one go; nothing is stored unless every row is good. */
  importFile(
    orgId: string,
    file: { name: string; bytes: Buffer },
    opts?: ImportOptions,
  ): Promise<ImportResult & { format?: BankFormat }>;
  exportFile(orgId: string, format: BankFormat, filter?: { tag?: string }): Promise<{ bytes: Buffer; count: number }>;
  stats(orgId: string): Promise<BankStats>;
  list(orgId: string, filter?: { tag?: string; includeRetired?: boolean }): Promise<BankQuestion[]>;
  count(orgId: string): Promise<number>;
  /** Renames a source on every question of an organisation that has it; returns how many changed. */
  renameSource(orgId: string, from: string, to: string): Promise<number>;
}

/**
 * Staged questions belong to `~import~<start, ms, 15 digits>~<id>` until their import's flip:
 * no organisation has such an id, so no reader sees them, and the start time in the
 * id sorts, which lets a start-up drop only imports long abandoned (another
 * instance may be running one right now).
 */
const STAGING_PREFIX = '~import~';
const stagingOrgId = (at: Date) => `${STAGING_PREFIX}${String(at.getTime()).padStart(15, '0')}~${newId()}`;
/** An import takes seconds; one whose staging is an hour old was cut short. */
export const ABANDONED_AFTER_MS = 3600_000;

/** SQLite allows 32,766 bound parameters; stay far below for IN lists. */
const CHUNK = 500;

function chunks<T>(list: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

export function createQuestionBank(deps: {
  db: Db;
  clock: Clock;
  /**
   * An import is written with multi-row JSON inserts (2,000 rows a statement)
   * in the provider's SQL: Prisma's createMany costs about 0.7 ms a row on the
   * main thread, 14 s of held event loop for a 20,000-question bank.
   */
  provider: Provider;
  /** Questions per staging statement (tests make it small to fail an import in a given chunk). */
  rowsPerChunk?: number;
}): QuestionBank {
  const { db, clock, provider } = deps;
  const questionInsert = jsonInsert<Record<string, unknown>>(provider, {
    table: 'Question',
    columns: [
      ['id', 'text'],
      ['orgId', 'text'],
      ['type', 'text'],
      ['stem', 'text'],
      ['options', 'text'],
      ['answer', 'text'],
      ['explanation', 'text'],
      ['difficulty', 'integer'],
      ['source', 'text'],
      ['fingerprint', 'text'],
      ['status', 'text'],
      ['createdAt', 'timestamp(3)'],
      ['updatedAt', 'timestamp(3)'],
    ],
  });
  const tagInsert = jsonInsert<Record<string, unknown>>(provider, {
    table: 'QuestionTag',
    columns: [
      ['questionId', 'text'],
      ['orgId', 'text'],
      ['tag', 'text'],
    ],
  });
  const rowsPerChunk = deps.rowsPerChunk ?? 1000;
  const p = (n: number) => (provider === 'postgresql' ? `$${n}` : '?');

  async function existing(orgId: string, fps: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    // One statement per 5,000 fingerprints, bound as one JSON value (see sql-insert.ts).
    const sql =
      provider === 'postgresql'
        ? `SELECT "fingerprint", "stem" FROM "Question" WHERE "orgId" = $1 AND "fingerprint" IN (SELECT json_array_elements_text($2::json))`
        : `SELECT "fingerprint", "stem" FROM "Question" WHERE "orgId" = ? AND "fingerprint" IN (SELECT value FROM json_each(?))`;
    for (const part of chunks(fps, 5000)) {
      const rows = await db.$queryRawUnsafe<{ fingerprint: string; stem: string }[]>(sql, orgId, JSON.stringify(part));
      for (const r of rows) found.set(r.fingerprint, r.stem);
      await yieldToLoop();
    }
    return found;
  }

  /** Deletes a staging area, a chunk a statement, letting the loop run between. */
  async function dropStaging(stagingOrg: string): Promise<void> {
    const some = `SELECT "id" FROM "Question" WHERE "orgId" = ${p(1)} ORDER BY "id" LIMIT ${rowsPerChunk}`;
    for (;;) {
      // Tags first: SQLite enforces the cascade only when told to.
      await db.$executeRawUnsafe(`DELETE FROM "QuestionTag" WHERE "questionId" IN (${some})`, stagingOrg);
      const n = await db.$executeRawUnsafe(`DELETE FROM "Question" WHERE "id" IN (${some})`, stagingOrg);
      await yieldToLoop();
      if (n === 0) return;
    }
  }

  /**
   * An import is all-or-nothing for the user, but not one transaction: on
   * SQLite a transaction must not yield (docs/decisions/event-loop.md), and
   * 20,000 questions in one held the loop for seconds. The rows are written
   * in chunks under a staging organisation id no reader ever asks for, with
   * turns of the loop between, and become the organisation's in one
   * statement that changes their orgId (the flip). A failure drops the
   * staging rows; an import cut short by a crash is dropped at the next start
   * (`dropAbandonedImports`).
   */
  async function importDrafts(orgId: string, drafts: DraftWithLine[], opts: ImportOptions = {}): Promise<ImportResult> {
    const inBank = await existing(
      orgId,
      drafts.map((d) => d.fingerprint),
    );
    const skipped: { line: number; stem: string }[] = [];
    const problems: ImportProblem[] = [];
    const fresh: DraftWithLine[] = [];
    for (const d of drafts) {
      const stem = inBank.get(d.fingerprint);
      if (stem === undefined) fresh.push(d);
      else if (opts.skipExisting) skipped.push({ line: d.line, stem });
      else problems.push({ line: d.line, key: 'bank.row.duplicate_in_bank', params: { stem: excerpt(stem) } });
    }
    if (problems.length > 0) return { ok: false, problems };

    const staging = stagingOrgId(clock.now());
    // Creation times one millisecond apart keep the file's order for listing and export.
    const base = clock.now().getTime();
    const rows = fresh.map((d, i) => ({ id: newId(), d, createdAt: new Date(base + i) }));
    const now = sqlStamp(clock.now());
    try {
      for (const part of chunks(rows, rowsPerChunk)) {
        await questionInsert.run(
          db,
          part.map(({ id, d, createdAt }) => ({
            id,
            orgId: staging,
            type: d.draft.type,
            stem: d.draft.stem,
            options: questionOptionsColumn.stringify(d.draft.options),
            answer: encodeAnswer(d.draft.type, d.draft.answer),
            explanation: d.draft.explanation,
            difficulty: d.draft.difficulty,
            source: d.draft.source,
            fingerprint: d.fingerprint,
            status: 'active',
            createdAt: sqlStamp(createdAt),
            updatedAt: now,
          })),
        );
        // Tags carry the organisation already: every reader reaches them through a question of it.
        await tagInsert.run(
          db,
          part.flatMap(({ id, d }) => d.draft.tags.map((tag) => ({ questionId: id, orgId, tag }))),
        );
        await yieldToLoop();
      }
      // The flip: one statement, no JavaScript per row. Its cost is the two indexes on
      // Question.orgId (about 100 ms for 20,000 questions on an idle core).
      await db.$executeRawUnsafe(`UPDATE "Question" SET "orgId" = ${p(1)} WHERE "orgId" = ${p(2)}`, orgId, staging);
      return { ok: true, imported: rows.length, skipped, repeats: [] };
    } catch (err) {
      await dropStaging(staging);
      // Another import stored one of these questions between our check and our flip.
      if (isUniqueViolation(err) || isRawUniqueViolation(err))
        return { ok: false, problems: [{ key: 'bank.import.conflict' }] };
      throw err;
    }
  }

  async function dropAbandonedImports(olderThanMs = ABANDONED_AFTER_MS): Promise<number> {
    const cutoff = stagingOrgId(new Date(clock.now().getTime() - olderThanMs));
    const found = await db.$queryRawUnsafe<{ orgId: string }[]>(
      `SELECT DISTINCT "orgId" FROM "Question" WHERE "orgId" > ${p(1)} AND "orgId" < ${p(2)}`,
      STAGING_PREFIX,
      cutoff,
    );
    for (const { orgId } of found) await dropStaging(orgId);
    return found.length;
  }

  const bank: QuestionBank = {
    importDrafts,
    dropAbandonedImports,
    async importFile(orgId, file, opts) {
      const plan = await readBankFile(file.name, file.bytes, { skipDuplicates: opts?.skipExisting });
      if (!('drafts' in plan)) return { ok: false, problems: plan.problems };
      if (plan.problems.length > 0) return { ok: false, problems: plan.problems, format: plan.format };
      const result = await importDrafts(orgId, plan.drafts, opts);
      return result.ok ? { ...result, repeats: plan.repeats, format: plan.format } : { ...result, format: plan.format };
    },
    async exportFile(orgId, format, filter = {}) {
      const [org, questions] = await Promise.all([
        db.organisation.findUnique({ where: { id: orgId }, select: { name: true } }),
        bank.list(orgId, filter),
      ]);
      const bytes = await writeBankFile(format, questions, { exportedAt: clock.now(), organisation: org?.name });
      return { bytes, count: questions.length };
    },
    async stats(orgId) {
      const [types, tags, untagged, retired] = await Promise.all([
        db.question.groupBy({ by: ['type'], where: { orgId, status: 'active' }, _count: { _all: true } }),
        db.questionTag.groupBy({
          by: ['tag'],
          // Through the question's organisation: a staged question's tags already carry this one.
          where: { orgId, question: { orgId, status: 'active' } },
          _count: { _all: true },
        }),
        db.question.count({ where: { orgId, status: 'active', tags: { none: {} } } }),
        db.question.count({ where: { orgId, status: 'retired' } }),
      ]);
      const byType: Record<QuestionType, number> = { single: 0, multiple: 0, truefalse: 0, fill: 0 };
      for (const t of types) byType[t.type as QuestionType] = t._count._all;
      return {
        total: Object.values(byType).reduce((a, b) => a + b, 0),
        byType,
        byTag: tags
          .map((t) => ({ tag: t.tag, count: t._count._all }))
          .sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag, 'zh-CN')),
        untagged,
        retired,
      };
    },
    async list(orgId, filter = {}) {
      const rows = await db.question.findMany({
        where: {
          orgId,
          ...(filter.includeRetired ? {} : { status: 'active' }),
          ...(filter.tag ? { tags: { some: { tag: filter.tag } } } : {}),
        },
        include: { tags: { select: { tag: true } } },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      return rows.map(decodeQuestion);
    },
    count: (orgId) => db.question.count({ where: { orgId, status: 'active' } }),
    async renameSource(orgId, from, to) {
      const { count } = await db.question.updateMany({ where: { orgId, source: from }, data: { source: to } });
      return count;
    },
  };
  return bank;
}

export function excerpt(text: string, max = 30): string {
  const chars = [...text.replace(/\s+/g, ' ')];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : chars.join('');
}
