import type { CardTemplates } from '../../bot/card-templates.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { Card, CardInput } from '../../platforms/types.ts';
import { cardSchema } from '../../platforms/types.ts';
import { percent, type SessionAttendance } from './attendance.ts';
import { FORMAT_KEYS, localTime, PART_KEYS, partsColumn, type ClubFormat } from './model.ts';
import type { SessionRow } from './sessions.ts';

type T = (key: MessageKey, params?: MessageParams) => string;

/**
 * The club's cards. The plan card comes from cards/club-plan.json (its
 * wording and layout are the organisation's to change); the small cards are
 * built here from catalogue text (the
 * sign-in and closing cards, which the group sees, are templates too). Member-written text (themes, notes) is
 * passed as card content, never as markup: the renderers escape it.
 */
export interface CardDeps {
  t: T;
  cards: CardTemplates;
}

export function formatName(t: T, format: string): string {
  return t(FORMAT_KEYS[format as ClubFormat] ?? 'club.format.meeting');
}

export function sessionFields(t: T, s: SessionRow, tz: string, unitName: string): { label: string; value: string }[] {
  const parts = partsColumn.parse(s.parts);
  return [
    { label: t('club.field.theme'), value: s.theme },
    { label: t('club.field.time'), value: localTime(s.startsAt, tz) },
    { label: t('club.field.place'), value: s.place || '—' },
    { label: t('club.field.format'), value: formatName(t, s.format) },
    { label: t('club.field.unit'), value: unitName || '—' },
    ...(parts.length ? [{ label: t('club.field.parts'), value: parts.map((p) => t(PART_KEYS[p])).join('、') }] : []),
  ];
}

export interface PlanLine {
  session: SessionRow;
  unitName: string;
  review: string;
}

/** The year's plan as one card (cards/club-plan.json), each session editable from it. */
export function planCard(d: CardDeps, year: number, lines: PlanLine[], tz: string): Card {
  return d.cards.render('club-plan', {
    title: d.t('club.plan.title', { year }),
    empty: lines.length === 0,
    emptyText: d.t('club.plan.empty', { year }),
    rows: lines.map((l) => [
      d.t('club.seq', { seq: l.session.seq }),
      localTime(l.session.startsAt, tz).slice(5),
      l.session.theme,
      formatName(d.t, l.session.format),
      l.unitName || '—',
      l.session.place || '—',
      l.review,
    ]),
    columns: ['期数', '时间', '主题', '形式', '承办', '地点', '送审'].map((c) => c),
    options: lines.map((l) => ({ value: String(l.session.seq), text: d.t('club.seq', { seq: l.session.seq }) })),
    editText: d.t('club.plan.edit_button'),
    exportText: d.t('club.plan.export_button'),
    year,
    note: d.t('club.plan.note'),
  });
}

export function editCard(t: T, s: SessionRow, tz: string, unitName: string): Card {
  return build({
    header: { title: t('club.edit.title', { seq: s.seq }), colour: 'blue' },
    elements: [
      { type: 'fields', fields: sessionFields(t, s, tz, unitName) },
      {
        type: 'form',
        inputs: [
          { name: 'time', label: t('club.field.time'), placeholder: t('club.edit.time_hint') },
          { name: 'theme', label: t('club.field.theme') },
          { name: 'place', label: t('club.field.place') },
          { name: 'format', label: t('club.field.format'), placeholder: t('club.edit.format_hint') },
          { name: 'unit', label: t('club.field.unit') },
          { name: 'parts', label: t('club.field.parts'), placeholder: t('club.edit.parts_hint') },
        ],
        submitText: t('club.edit.submit'),
        actionId: 'club.edit',
        payload: { v: 1, seq: s.seq },
      },
      { type: 'note', text: t('club.edit.note') },
    ],
  });
}

/** `读书会 计划 2027 新建`: one form for the year (a theme a month, day, time, place). */
export function wizardCard(t: T, year: number): Card {
  return build({
    header: { title: t('club.wizard.title', { year }), colour: 'blue' },
    elements: [
      { type: 'markdown', text: t('club.wizard.intro', { year }) },
      {
        type: 'form',
        inputs: [
          { name: 'day', label: t('club.wizard.day'), placeholder: '15' },
          { name: 'time', label: t('club.field.time'), placeholder: '14:30' },
          { name: 'place', label: t('club.field.place') },
          ...Array.from({ length: 12 }, (_, i) => ({
            name: `m${i + 1}`,
            label: t('club.wizard.month', { month: i + 1 }),
          })),
        ],
        submitText: t('club.wizard.submit'),
        actionId: 'club.wizard',
        payload: { v: 1, year },
      },
    ],
  });
}

export function checkinCard(d: CardDeps, s: SessionRow, tz: string, unitName: string, closesAt: string): Card {
  return d.cards.render('club-checkin', {
    title: d.t('club.checkin.title', { seq: s.seq }),
    fields: sessionFields(d.t, s, tz, unitName),
    window: d.t('club.checkin.window', { until: closesAt }),
    buttonText: d.t('club.checkin.button'),
    seq: s.seq,
  });
}

/** For the group: counts only. Names of who was absent go to secretaries (absenceCard). */
export function closingCard(d: CardDeps, s: SessionRow, a: SessionAttendance): Card {
  return d.cards.render('club-closing', {
    title: d.t('club.closing.title', { seq: s.seq }),
    summary: d.t('club.closing.summary', { present: a.present, expected: a.expected, rate: rate(a) }),
    chartTitle: d.t('club.closing.chart'),
    bars: a.byUnit.map((u) => ({ label: u.unit, value: u.present })),
    noteText: d.t('club.note.button'),
    rateText: d.t('club.rate.button'),
    seq: s.seq,
  });
}

function rate(a: SessionAttendance): string {
  return percent(a.expected ? a.present / a.expected : 0);
}

/** Privately to secretaries: who came, who was signed in for, who was absent. */
export function absenceCard(t: T, s: SessionRow, a: SessionAttendance): Card {
  return build({
    header: { title: t('club.attendance.title', { seq: s.seq }), colour: 'orange' },
    elements: [
      {
        type: 'markdown',
        text: t('club.attendance.summary', {
          present: a.present,
          expected: a.expected,
          rate: rate(a),
          proxy: a.onBehalf,
        }),
      },
      {
        type: 'table',
        columns: [t('club.col.unit'), t('club.col.expected'), t('club.col.present'), t('club.col.rate')],
        rows: a.byUnit.map((u) => [
          u.unit,
          String(u.expected),
          String(u.present),
          percent(u.expected ? u.present / u.expected : 0),
        ]),
      },
      {
        type: 'fields',
        fields: [
          {
            label: t('club.attendance.absent'),
            value: a.absent.map((m) => `${m.name}（${m.unit}）`).join('、') || t('club.none'),
          },
          {
            label: t('club.attendance.proxy'),
            value:
              a.present_
                .filter((p) => p.byProxy)
                .map((p) => p.name)
                .join('、') || t('club.none'),
          },
          {
            label: t('club.attendance.late'),
            value:
              a.present_
                .filter((p) => p.late && !p.byProxy)
                .map((p) => p.name)
                .join('、') || t('club.none'),
          },
        ],
      },
    ],
  });
}

export function noteFormCard(t: T, s: SessionRow): Card {
  return build({
    header: { title: t('club.note.title', { seq: s.seq }), colour: 'blue' },
    elements: [
      {
        type: 'form',
        inputs: [{ name: 'text', label: t('club.note.label'), multiline: true }],
        submitText: t('club.note.submit'),
        actionId: 'club.note.submit',
        payload: { v: 1, seq: s.seq },
      },
    ],
  });
}

export function rateCard(t: T, s: SessionRow): Card {
  return build({
    header: { title: t('club.rate.title', { seq: s.seq }), colour: 'purple' },
    elements: [
      {
        type: 'form',
        inputs: [
          { name: 'score', label: t('club.rate.score'), placeholder: '1-5' },
          { name: 'comment', label: t('club.rate.comment'), multiline: true },
        ],
        submitText: t('club.rate.submit'),
        actionId: 'club.rate.submit',
        payload: { v: 1, seq: s.seq },
      },
    ],
  });
}

export function build(card: CardInput): Card {
  return cardSchema.parse(card);
}
