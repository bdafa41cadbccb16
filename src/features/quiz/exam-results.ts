import { offerDownload, safeFileName, XLSX_CONTENT_TYPE, type OfferedDownload } from '../../bot/downloads.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { Db, Tx } from '../../lib/db.ts';
import type { Card } from '../../platforms/types.ts';
import { quizNoticeCard, type NoticeCard } from './cards.ts';
import { sheetBytes } from '../../lib/xlsx-thread.ts';
import type { QuizDeps } from './shared.ts';
import { formatLocal } from './time.ts';

/**
 * The results of a closed-book test or make-up: scores, who took it and who
 * did not, the results card the secretary gets, and the XLSX sheet.
 */
export type RoundRow = {
  id: string;
  orgId: string;
  seq: number;
  kind: string;
  platform: string;
  chatId: string | null;
  title: string;
  status: string;
  settings: string;
  opensAt: Date;
  closesAt: Date | null;
  parentId: string | null;
  createdBy: string;
};

export function createExamResults(deps: QuizDeps) {
  const { clock, cards, messages } = deps;
  const t = (k: MessageKey, p?: MessageParams) => messages.t(k, p);
  const kindTitle = (kind: string) => t(kind === 'makeup' ? 'quiz.makeup.title' : 'quiz.test.title');
  const notice = (input: NoticeCard): Card => quizNoticeCard(cards, input);

  async function scoreOf(tx: Tx | Db, roundId: string, memberId: string) {
    await deps.answers.settle(tx);
    const total = await tx.quizRoundQuestion.count({ where: { roundId, status: { not: 'void' } } });
    const correct = await tx.quizAnswer.count({ where: { roundId, memberId, correct: true, voided: false } });
    return { correct, total };
  }

  /**
   * One round's own results: who took it (score, time) and who was invited but did not.
   * Two joined reads with the scores counted by the database: Prisma reading 5,000
   * invites, attempts and members (an IN list of 5,000 ids through its query compiler)
   * held the event loop for most of a second (docs/decisions/event-loop.md).
   */
  async function roundResults(tx: Tx | Db, round: RoundRow) {
    await deps.answers.settle(tx);
    const p = deps.provider === 'postgresql' ? '$1' : '?';
    const attempts = await tx.$queryRawUnsafe<
      {
        memberId: string;
        name: string | null;
        unit: string | null;
        startedAt: Date | string;
        finishedAt: Date | string | null;
        status: string;
        correct: number | bigint;
      }[]
    >(
      `SELECT a."memberId", m."displayName" AS "name", u."name" AS "unit", a."startedAt", a."finishedAt", a."status",
              (SELECT COUNT(*) FROM "QuizAnswer" q
                WHERE q."roundId" = a."roundId" AND q."memberId" = a."memberId" AND q."correct" = true AND q."voided" = false) AS "correct"
         FROM "QuizAttempt" a
         LEFT JOIN "Member" m ON m."id" = a."memberId"
         LEFT JOIN "Unit" u ON u."id" = m."unitId"
        WHERE a."roundId" = ${p}
        ORDER BY a."memberId"`,
      round.id,
    );
    const absentees = await tx.$queryRawUnsafe<{ memberId: string; name: string | null; unit: string | null }[]>(
      `SELECT i."memberId", m."displayName" AS "name", u."name" AS "unit"
         FROM "QuizInvite" i
         LEFT JOIN "Member" m ON m."id" = i."memberId"
         LEFT JOIN "Unit" u ON u."id" = m."unitId"
        WHERE i."roundId" = ${p}
          AND NOT EXISTS (SELECT 1 FROM "QuizAttempt" a WHERE a."roundId" = i."roundId" AND a."memberId" = i."memberId")
        ORDER BY i."memberId"`,
      round.id,
    );
    const total = await tx.quizRoundQuestion.count({ where: { roundId: round.id, status: { not: 'void' } } });
    const taken = attempts
      .map((a) => {
        const startedAt = new Date(a.startedAt);
        const used = Math.round(
          ((a.finishedAt ? new Date(a.finishedAt) : clock.now()).getTime() - startedAt.getTime()) / 1000,
        );
        return {
          memberId: a.memberId,
          name: a.name ?? '?',
          unit: a.unit ?? '',
          correct: Number(a.correct),
          total,
          usedSeconds: used,
          status: a.status,
          startedAt,
          makeup: round.kind === 'makeup',
        };
      })
      .sort((a, b) => b.correct - a.correct || a.usedSeconds - b.usedSeconds);
    const absent = absentees.map((i) => ({ memberId: i.memberId, name: i.name ?? '?', unit: i.unit ?? '' }));
    return { taken, absent, total };
  }

  /**
   * A test's results with its make-ups folded in (a make-up belongs to its test):
   * whoever took the make-up counts as taken, marked as a make-up, and is no longer
   * absent. A make-up asked for directly answers with its test's results.
   */
  async function results(tx: Tx | Db, round: RoundRow) {
    const own = await roundResults(tx, round);
    if (round.kind !== 'test') return { ...own, makeups: 0 };
    const makeups = await tx.quizRound.findMany({
      where: { parentId: round.id, kind: 'makeup', status: { not: 'cancelled' } },
      orderBy: { seq: 'asc' },
    });
    let taken = own.taken;
    let absent = own.absent;
    for (const m of makeups) {
      const r = await roundResults(tx, m);
      // Sets, not .some per person: thousands of absentees made that millions of comparisons.
      const wasAbsent = new Set(absent.map((a) => a.memberId));
      const late = r.taken.filter((x) => wasAbsent.has(x.memberId));
      const cameLate = new Set(late.map((x) => x.memberId));
      taken = [...taken, ...late];
      absent = absent.filter((a) => !cameLate.has(a.memberId));
    }
    const made = taken.filter((x) => x.makeup).length;
    taken = [...taken].sort(
      (a, b) => b.correct / (b.total || 1) - a.correct / (a.total || 1) || a.usedSeconds - b.usedSeconds,
    );
    return { taken, absent, total: own.total, makeups: made };
  }

  /** The round whose results a secretary means: a make-up's are its test's. */
  async function resultsRound(tx: Tx | Db, round: RoundRow): Promise<RoundRow> {
    if (round.kind !== 'makeup' || !round.parentId) return round;
    return (await tx.quizRound.findUnique({ where: { id: round.parentId } })) ?? round;
  }

  function usedText(seconds: number): string {
    return t('quiz.test.used', { m: Math.floor(seconds / 60), s: seconds % 60 });
  }

  /** The results as an XLSX workbook: who took it with score and time, then the absentees. */
  async function exportResults(tx: Tx | Db, asked: RoundRow, tz: string): Promise<{ name: string; bytes: Buffer }> {
    const round = await resultsRound(tx, asked);
    const r = await results(tx, round);
    const rows: (string | number)[][] = [
      ...r.taken.map((x) => [
        x.name,
        x.unit,
        t(x.makeup ? 'quiz.test.status.makeup' : 'quiz.test.status.taken'),
        x.correct,
        x.total,
        x.total ? Math.round((x.correct / x.total) * 100) : 0,
        formatLocal(x.startedAt, tz),
        usedText(x.usedSeconds),
      ]),
      ...r.absent.map((x) => [x.name, x.unit, t('quiz.test.status.absent'), '', r.total, '', '', '']),
    ];
    const bytes = await sheetBytes(
      t('quiz.test.sheet_name', { seq: round.seq }),
      [
        { header: t('quiz.test.sheet.name') },
        { header: t('quiz.test.sheet.unit') },
        { header: t('quiz.test.sheet.status') },
        { header: t('quiz.test.sheet.correct') },
        { header: t('quiz.test.sheet.total') },
        { header: t('quiz.test.sheet.rate') },
        { header: t('quiz.test.sheet.started'), width: 16 },
        { header: t('quiz.test.sheet.used') },
      ],
      rows,
    );
    const name = safeFileName(
      t('quiz.test.file_name', { kind: kindTitle(round.kind), seq: round.seq, title: round.title }),
    );
    return { name: `${name}.xlsx`, bytes };
  }

  /** Stores the results sheet and offers it as a link fit for `platform` (where the card goes). */
  async function resultsDownload(tx: Tx | Db, round: RoundRow, tz: string, platform: string): Promise<OfferedDownload> {
    const file = await exportResults(tx, round, tz);
    return offerDownload(
      deps.files,
      t,
      {
        platform,
        orgId: round.orgId,
        name: file.name,
        contentType: XLSX_CONTENT_TYPE,
        bytes: file.bytes,
        buttonText: t('quiz.test.download'),
      },
      // Inside a transaction (the close) the file commits with the card that links to it.
      tx,
    );
  }

  /** The answer to 测试 导出: just the sheet's link (or why there is none). */
  function exportCard(round: RoundRow, download: OfferedDownload): Card {
    return notice({
      title: t('quiz.test.export_title', { kind: kindTitle(round.kind), seq: round.seq }),
      colour: 'green',
      text: t('quiz.test.exported', { seq: round.seq, title: round.title }),
      note: download.note,
      controls: download.link ? [download.link] : [],
    });
  }

  async function resultsCard(
    tx: Tx | Db,
    asked: RoundRow,
    tz: string,
    makeupCloses: Date | null,
    download: OfferedDownload | null,
  ): Promise<Card> {
    const round = await resultsRound(tx, asked);
    const r = await results(tx, round);
    const lines: string[] = [];
    lines.push(
      r.makeups > 0
        ? t('quiz.test.results.summary_makeup', {
            taken: r.taken.length - r.makeups,
            makeup: r.makeups,
            absent: r.absent.length,
          })
        : t('quiz.test.results.summary', { taken: r.taken.length, absent: r.absent.length }),
    );
    if (makeupCloses) lines.push(t('quiz.test.results.makeup', { closes: formatLocal(makeupCloses, tz) }));
    return notice({
      title: t('quiz.test.results.title', { kind: kindTitle(round.kind), seq: round.seq }),
      colour: 'green',
      text: lines.join('\n'),
      fields: [
        {
          label: t('quiz.test.results.absent'),
          value: r.absent.length ? r.absent.map((a) => a.name).join('、') : t('quiz.none'),
        },
      ],
      table: {
        columns: [t('quiz.col.member'), t('quiz.col.unit'), t('quiz.col.score'), t('quiz.col.used')],
        rows: r.taken.map((x) => [
          x.name,
          x.unit || '-',
          x.makeup
            ? t('quiz.test.results.makeup_score', { correct: x.correct, total: x.total })
            : `${x.correct}/${x.total}`,
          usedText(x.usedSeconds),
        ]),
      },
      note: download?.note ?? '',
      controls: download?.link ? [download.link] : [],
    });
  }

  return { scoreOf, results, resultsRound, resultsDownload, exportCard, resultsCard };
}
