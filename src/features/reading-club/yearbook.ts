import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { docxInWorker, type DocBlock } from '../../lib/docx-thread.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { Db } from '../../lib/db.ts';
import { percent, sessionAttendance, yearAttendance } from './attendance.ts';
import { formatName } from './cards.ts';
import { localTime } from './model.ts';

type T = (key: MessageKey, params?: MessageParams) => string;

export interface YearbookChapter {
  seq: number;
  theme: string;
  time: string;
  place: string;
  format: string;
  unit: string;
  attendance: string;
  notes: { name: string; unit: string; text: string }[];
}

export interface YearbookContent {
  title: string;
  orgName: string;
  year: number;
  chapters: YearbookChapter[];
  perUnit: { unit: string; personTimes: number; rate: string }[];
  perMember: { name: string; unit: string; attended: number; rate: string; notes: number }[];
  sessions: number;
  personTimes: number;
}

/**
 * The year's book (文稿整理成册存档): gathered from the database, then
 * written as DOCX (docx library) and Markdown with the same content. The
 * chapters are built one at a time with a turn of the event loop between
 * them, so a large year does not hold up other chats (SQLite answers on
 * the main thread).
 */
export async function gatherYearbook(db: Db, orgId: string, year: number, now: Date, t: T): Promise<YearbookContent> {
  const org = await db.organisation.findUniqueOrThrow({ where: { id: orgId } });
  const tz = org.timezone;
  const sessions = await db.clubSession.findMany({ where: { orgId, year }, orderBy: { startsAt: 'asc' } });
  const units = new Map((await db.unit.findMany({ where: { orgId } })).map((u) => [u.id, u.name]));
  const members = new Map((await db.member.findMany({ where: { orgId } })).map((m) => [m.id, m]));
  const noteCount = new Map<string, number>();
  const chapters: YearbookChapter[] = [];
  for (const s of sessions) {
    await yieldToLoop();
    const a = await sessionAttendance(db, s);
    const notes = await db.clubNote.findMany({
      where: { sessionId: s.id },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    chapters.push({
      seq: s.seq,
      theme: s.theme,
      time: localTime(s.startsAt, tz),
      place: s.place || '—',
      format: formatName(t, s.format),
      unit: (s.unitId && units.get(s.unitId)) || '—',
      attendance: t('club.yearbook.attendance', {
        present: a.present,
        expected: a.expected,
        rate: percent(a.expected ? a.present / a.expected : 0),
      }),
      notes: notes.map((n) => {
        noteCount.set(n.memberId, (noteCount.get(n.memberId) ?? 0) + 1);
        const m = members.get(n.memberId);
        return { name: m?.displayName ?? '—', unit: (m?.unitId && units.get(m.unitId)) || '—', text: n.text };
      }),
    });
  }
  const y = await yearAttendance(db, orgId, year, now);
  // A map, not .find per member: 5,000 members made that 25 million comparisons on the loop.
  // The first of two members with one name and unit, as .find gave.
  const attendedBy = new Map<string, (typeof y.perMember)[number]>();
  for (const x of [...y.perMember].reverse()) attendedBy.set(`${x.name}|${x.unit}`, x);
  return {
    title: t('club.yearbook.title', { year }),
    orgName: org.name,
    year,
    chapters,
    sessions: y.sessions,
    personTimes: y.personTimes,
    perUnit: y.perUnit.map((u) => ({ unit: u.unit, personTimes: u.personTimes, rate: percent(u.rate) })),
    perMember: [...members.values()].map((m) => {
      const pm = attendedBy.get(`${m.displayName}|${(m.unitId && units.get(m.unitId)) || '—'}`);
      return {
        name: m.displayName,
        unit: (m.unitId && units.get(m.unitId)) || '—',
        attended: pm?.attended ?? 0,
        rate: percent(pm?.rate ?? 0),
        notes: noteCount.get(m.id) ?? 0,
      };
    }),
  };
}

function chapterTitle(t: T, c: YearbookChapter): string {
  return t('club.yearbook.chapter', { seq: c.seq, theme: c.theme });
}

/** Paragraphs of a note: one per line the member wrote. */
function noteParagraphs(text: string): DocBlock[] {
  return text.split(/\n+/).map((line) => ({ kind: 'paragraph' as const, text: line, firstLine: 480 }));
}

/** The book as DOCX, built on a worker thread: a year of notes held the event loop for seconds. */
export async function yearbookDocx(c: YearbookContent, t: T): Promise<Buffer> {
  const body: DocBlock[] = [
    { kind: 'paragraph', text: c.orgName, center: true, spaceBefore: 3000 },
    { kind: 'paragraph', text: c.title, heading: 'title', center: true },
    {
      kind: 'paragraph',
      text: t('club.yearbook.subtitle', { sessions: c.sessions, personTimes: c.personTimes }),
      center: true,
    },
    { kind: 'pageBreak' },
    { kind: 'paragraph', text: t('club.yearbook.toc'), heading: 'h1' },
    { kind: 'toc', title: t('club.yearbook.toc') },
    { kind: 'pageBreak' },
  ];
  for (const ch of c.chapters) {
    body.push(
      { kind: 'paragraph', text: chapterTitle(t, ch), heading: 'h1', pageBreakBefore: true },
      {
        kind: 'table',
        header: [t('club.yearbook.item'), t('club.yearbook.value')],
        rows: [
          [t('club.field.time'), ch.time],
          [t('club.field.place'), ch.place],
          [t('club.field.format'), ch.format],
          [t('club.field.unit'), ch.unit],
          [t('club.yearbook.attendance_label'), ch.attendance],
        ],
      },
    );
    if (ch.notes.length === 0) body.push({ kind: 'paragraph', text: t('club.yearbook.no_notes') });
    for (const n of ch.notes) {
      body.push({
        kind: 'paragraph',
        text: t('club.yearbook.note_heading', { name: n.name, unit: n.unit }),
        heading: 'h2',
      });
      body.push(...noteParagraphs(n.text));
    }
  }
  body.push(
    { kind: 'paragraph', text: t('club.yearbook.appendix'), heading: 'h1', pageBreakBefore: true },
    { kind: 'paragraph', text: t('club.yearbook.per_unit'), heading: 'h2' },
    {
      kind: 'table',
      header: [t('club.col.unit'), t('club.col.person_times'), t('club.col.rate')],
      rows: c.perUnit.map((u) => [u.unit, String(u.personTimes), u.rate]),
    },
    { kind: 'paragraph', text: t('club.yearbook.per_member'), heading: 'h2' },
    {
      kind: 'table',
      header: [
        t('club.col.member'),
        t('club.col.unit'),
        t('club.col.attended'),
        t('club.col.rate'),
        t('club.col.notes'),
      ],
      rows: c.perMember.map((m) => [m.name, m.unit, String(m.attended), m.rate, String(m.notes)]),
    },
  );
  // Word and WPS fill the table of contents in when the file is opened (updateFields).
  return docxInWorker({
    creator: 'Shuxiang',
    title: c.title,
    font: 'SimSun',
    size: 24,
    updateFields: true,
    blocks: body,
  });
}

/** Markdown of the same book; member text is kept as written, one paragraph per line. */
export async function yearbookMarkdown(c: YearbookContent, t: T): Promise<string> {
  const out: string[] = [
    `# ${c.title}`,
    '',
    c.orgName,
    '',
    t('club.yearbook.subtitle', { sessions: c.sessions, personTimes: c.personTimes }),
    '',
  ];
  out.push(`## ${t('club.yearbook.toc')}`, '');
  for (const ch of c.chapters) out.push(`- ${chapterTitle(t, ch)}`);
  out.push('');
  for (const ch of c.chapters) {
    await yieldToLoop();
    out.push(`## ${chapterTitle(t, ch)}`, '');
    out.push(
      `- ${t('club.field.time')}：${ch.time}`,
      `- ${t('club.field.place')}：${ch.place}`,
      `- ${t('club.field.format')}：${ch.format}`,
    );
    out.push(`- ${t('club.field.unit')}：${ch.unit}`, `- ${t('club.yearbook.attendance_label')}：${ch.attendance}`, '');
    if (ch.notes.length === 0) out.push(t('club.yearbook.no_notes'), '');
    for (const n of ch.notes)
      out.push(
        `### ${t('club.yearbook.note_heading', { name: n.name, unit: n.unit })}`,
        '',
        ...n.text.split(/\n+/).flatMap((l) => [l, '']),
      );
  }
  out.push(`## ${t('club.yearbook.appendix')}`, '', `### ${t('club.yearbook.per_unit')}`, '');
  out.push(`| ${t('club.col.unit')} | ${t('club.col.person_times')} | ${t('club.col.rate')} |`, '| --- | --- | --- |');
  for (const u of c.perUnit) out.push(`| ${cell(u.unit)} | ${u.personTimes} | ${u.rate} |`);
  out.push('', `### ${t('club.yearbook.per_member')}`, '');
  out.push(
    `| ${t('club.col.member')} | ${t('club.col.unit')} | ${t('club.col.attended')} | ${t('club.col.rate')} | ${t('club.col.notes')} |`,
    '| --- | --- | --- | --- | --- |',
  );
  for (const m of c.perMember)
    out.push(`| ${cell(m.name)} | ${cell(m.unit)} | ${m.attended} | ${m.rate} | ${m.notes} |`);
  return `${out.join('\n')}\n`;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}
