import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBankFile, writeBankFile, type DraftWithLine } from '../../src/features/quiz/bank/file-format.ts';
import { createQuestionBank, type QuestionBank } from '../../src/features/quiz/bank/repository.ts';
import { importStarterBank } from '../../src/features/quiz/bank/starter-bank.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createMigrator } from '../../src/lib/migrator.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

const CSV = [
  '题型,题干,选项A,选项B,选项C,答案,标签,难度',
  '单选,党的一大在哪一年召开？,1919,1921,1927,B,党史、一大,易',
  '多选,“三大法宝”包括哪些？,统一战线,武装斗争,党的建设,ABC,党史,中',
  '判断,南京海事法院安排了补考。,,,,对,以考促学,',
  '填空,全院 ____ 人参加测试。,,,,96|九十六,以考促学,难',
].join('\n');

async function plan(csv: string): Promise<DraftWithLine[]> {
  const p = await readBankFile('bank.csv', Buffer.from(csv));
  if (!('drafts' in p) || p.problems.length > 0) throw new Error(JSON.stringify(p.problems));
  return p.drafts;
}

const clock = createManualClock('2026-03-02T01:00:00Z');

describe.each(providers)('question bank repository on $name', (provider) => {
  let testDb: TestDatabase;
  let db: Database;
  let bank: QuestionBank;

  beforeEach(async () => {
    testDb = await provider.create();
    db = await openDatabase(testDb.url);
    await createMigrator(db).migrate();
    await db.prisma.organisation.createMany({
      data: [
        { id: 'org-1', name: '第一支部' },
        { id: 'org-2', name: '第二支部' },
      ],
    });
    bank = createQuestionBank({ db: db.prisma, clock, provider: db.provider });
  });
  afterEach(async () => {
    await db.close();
    await testDb.drop();
  });

  it('imports every question with its tags, and counts them per tag and type', async () => {
    const result = await bank.importDrafts('org-1', await plan(CSV));
    expect(result).toEqual({ ok: true, imported: 4, skipped: [], repeats: [] });
    const stats = await bank.stats('org-1');
    expect(stats.total).toBe(4);
    expect(stats.byType).toEqual({ single: 1, multiple: 1, truefalse: 1, fill: 1 });
    expect(stats.byTag).toEqual([
      { tag: '党史', count: 2 },
      { tag: '以考促学', count: 2 },
      { tag: '一大', count: 1 },
    ]);
    expect(stats.untagged).toBe(0);
    // The other organisation's bank is untouched.
    expect(await bank.count('org-2')).toBe(0);
  });

  it('lists questions back in file order with their answers decoded', async () => {
    await bank.importDrafts('org-1', await plan(CSV));
    const list = await bank.list('org-1');
    expect(list.map((q) => q.type)).toEqual(['single', 'multiple', 'truefalse', 'fill']);
    expect(list[0]).toMatchObject({
      answer: ['B'],
      options: [
        { key: 'A', text: '1919' },
        { key: 'B', text: '1921' },
        { key: 'C', text: '1927' },
      ],
      tags: ['党史', '一大'].sort((a, b) => a.localeCompare(b, 'zh-CN')),
      difficulty: 1,
    });
    // One blank with two accepted answers (bank/types.ts: a blank's answers joined by |).
    expect(list[3]!.answer).toEqual(['96|九十六']);
    expect((await bank.list('org-1', { tag: '以考促学' })).map((q) => q.type)).toEqual(['truefalse', 'fill']);
  });

  it('refuses a file repeating questions the bank has, importing nothing, unless told to skip them', async () => {
    await bank.importDrafts('org-1', await plan(CSV));
    const again = CSV + '\n单选,新的一题,甲,乙,丙,A,党史,';
    const refused = await bank.importDrafts('org-1', await plan(again));
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.problems.map((p) => p.line)).toEqual([2, 3, 4, 5]);
      expect(refused.problems[0]).toMatchObject({
        key: 'bank.row.duplicate_in_bank',
        params: { stem: '党的一大在哪一年召开？' },
      });
    }
    expect(await bank.count('org-1')).toBe(4);

    const skipped = await bank.importDrafts('org-1', await plan(again), { skipExisting: true });
    expect(skipped).toMatchObject({ ok: true, imported: 1 });
    if (skipped.ok) expect(skipped.skipped.map((s) => s.line)).toEqual([2, 3, 4, 5]);
    expect(await bank.count('org-1')).toBe(5);
    // The same questions are welcome in another organisation.
    expect(await bank.importDrafts('org-2', await plan(CSV))).toMatchObject({ ok: true, imported: 4 });
  });

  it('imports nothing from a file with one bad row', async () => {
    const bad = CSV + '\n单选,答案不在选项里,甲,乙,丙,D,,';
    const result = await bank.importFile('org-1', { name: 'bank.csv', bytes: Buffer.from(bad) });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems).toEqual([
        { line: 6, key: 'bank.row.answer_not_option', params: { keys: 'D', range: 'A、B、C' } },
      ]);
    expect(await bank.count('org-1')).toBe(0);
  });

  it('leaves nothing behind when the transaction fails half-way', async () => {
    const drafts = await plan(CSV);
    // Two drafts with one fingerprint get past the in-file check only if built by hand;
    // the unique key then fails the insert after the first rows were written.
    const broken = [...drafts, { ...drafts[0]!, line: 9 }];
    const result = await bank.importDrafts('org-1', broken);
    expect(result).toEqual({ ok: false, problems: [{ key: 'bank.import.conflict' }] });
    expect(await bank.count('org-1')).toBe(0);
    expect(await db.prisma.questionTag.count()).toBe(0);
  });

  it('leaves nothing visible and nothing behind when an import fails in its third chunk', async () => {
    const small = createQuestionBank({ db: db.prisma, clock, provider: db.provider, rowsPerChunk: 2 });
    const drafts = await plan(CSV);
    // Chunks of two: the repeat of the first row is the fifth, in the third chunk. The first two
    // chunks are written by then (each its own statement); none of it may show or stay.
    const broken = [...drafts, { ...drafts[0]!, line: 9 }];
    const seen: number[] = [];
    // The bank's overview, as 题库 shows it: questions per type and per tag.
    const watcher = setInterval(
      () => void bank.stats('org-1').then((st) => seen.push(st.total + st.byTag.length + st.untagged)),
      0,
    );
    const result = await small.importDrafts('org-1', broken);
    clearInterval(watcher);
    expect(result).toEqual({ ok: false, problems: [{ key: 'bank.import.conflict' }] });
    // Others read the bank between the chunks, and saw none of them.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((n) => n === 0)).toBe(true);
    expect(await db.prisma.question.count()).toBe(0);
    expect(await db.prisma.questionTag.count()).toBe(0);
  });

  it('does not swallow a write made during an import into it, when the import fails', async () => {
    const small = createQuestionBank({ db: db.prisma, clock, provider: db.provider, rowsPerChunk: 1 });
    const drafts = await plan(CSV);
    let importing = true;
    let during: boolean | undefined;
    // What a card click does while the import runs: a write of its own, on the same connection.
    const click = new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        during = importing;
        db.prisma.organisation.create({ data: { id: 'org-3', name: '第三支部' } }).then(() => resolve(), reject);
      }),
    );
    const result = await small.importDrafts('org-1', [...drafts, { ...drafts[1]!, line: 9 }]);
    importing = false;
    await click;
    expect(result.ok).toBe(false);
    // The click ran while the import was under way, and its write stays after the import failed.
    expect(during).toBe(true);
    expect(await db.prisma.organisation.findUnique({ where: { id: 'org-3' } })).not.toBeNull();
    expect(await db.prisma.question.count()).toBe(0);
  });

  it('drops the staging rows of an import cut short, once they are old, and only those', async () => {
    // What a crash between chunks leaves: staging rows under an id carrying the import's start.
    const staged = (orgId: string, id: string) =>
      db.prisma.question.create({
        data: { id, orgId, type: 'truefalse', stem: id, options: '[]', answer: '["true"]', fingerprint: id },
      });
    const now = clock.now().getTime();
    await staged(`~import~${String(now - 2 * 3600_000).padStart(15, '0')}~a`, 'crashed');
    // Started a minute ago, perhaps on another instance, and still running.
    await staged(`~import~${String(now - 60_000).padStart(15, '0')}~b`, 'running');
    await bank.importDrafts('org-1', await plan(CSV));
    expect(await bank.dropAbandonedImports()).toBe(1);
    const left = await db.prisma.question.findMany({ where: { orgId: { startsWith: '~import~' } } });
    expect(left.map((q) => q.id)).toEqual(['running']);
    expect(await bank.count('org-1')).toBe(4);
  });

  it('stores each question once when the same file is imported twice at the same time', async () => {
    const drafts = await plan(CSV);
    const results = await Promise.all([bank.importDrafts('org-1', drafts), bank.importDrafts('org-1', drafts)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await bank.count('org-1')).toBe(4);
  });

  it('does not count retired questions', async () => {
    await bank.importDrafts('org-1', await plan(CSV));
    const [first] = await bank.list('org-1');
    await db.prisma.question.update({ where: { id: first!.id }, data: { status: 'retired' } });
    const stats = await bank.stats('org-1');
    expect(stats.total).toBe(3);
    expect(stats.retired).toBe(1);
    expect(stats.byTag.find((t) => t.tag === '一大')).toBeUndefined();
  });

  it('exports a bank that imports into another organisation unchanged, in every format', async () => {
    await importStarterBank(bank, 'org-1', ROOT);
    const original = (await bank.list('org-1')).map(({ id: _id, orgId: _o, createdAt: _c, ...q }) => q);
    for (const format of ['xlsx', 'csv', 'json'] as const) {
      await db.prisma.question.deleteMany({ where: { orgId: 'org-2' } });
      const { bytes, count } = await bank.exportFile('org-1', format);
      expect(count).toBe(original.length);
      const result = await bank.importFile('org-2', { name: `bank.${format}`, bytes });
      expect(result, format).toMatchObject({ ok: true, imported: original.length });
      const copy = (await bank.list('org-2')).map(({ id: _id, orgId: _o, createdAt: _c, ...q }) => q);
      expect(copy, format).toEqual(original);
    }
  });

  it('is idempotent for the starter bank', async () => {
    const first = await importStarterBank(bank, 'org-1', ROOT);
    expect(first.ok && first.imported).toBeGreaterThanOrEqual(80);
    const second = await importStarterBank(bank, 'org-1', ROOT);
    expect(second).toMatchObject({ ok: true, imported: 0 });
    expect(await bank.count('org-1')).toBe(first.ok ? first.imported : -1);
  });

  it('exports only a tag when asked', async () => {
    await bank.importDrafts('org-1', await plan(CSV));
    const { bytes, count } = await bank.exportFile('org-1', 'json', { tag: '以考促学' });
    expect(count).toBe(2);
    const back = await readBankFile('x.json', bytes);
    expect('drafts' in back && back.drafts.map((d) => d.draft.type)).toEqual(['truefalse', 'fill']);
  });

  it('writes what writeBankFile writes for the same questions', async () => {
    await bank.importDrafts('org-1', await plan(CSV));
    const { bytes } = await bank.exportFile('org-1', 'csv');
    expect(bytes.equals(await writeBankFile('csv', await bank.list('org-1')))).toBe(true);
  });
});
