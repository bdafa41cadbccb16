import { DateTime } from 'luxon';
import type { CommandContext, Identity } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps } from '../../bot/feature.ts';
import type { Db, Tx } from '../../lib/db.ts';
import { planCard, type PlanLine } from './cards.ts';
import type { ClubJobs } from './jobs.ts';
import { loadSettings } from './model.ts';
import { draftFromFields, type UnitLookup } from './plan-input.ts';
import { sessionBySeq, sessionsOfYear, yearMonth, type SessionRow } from './sessions.ts';

/** What the club's commands and actions share. */
export interface Club {
  deps: FeatureDeps;
  jobs: ClubJobs;
  units(db: Db | Tx, orgId: string): Promise<UnitLookup & { name(id: string | null): string }>;
  planCardFor(identity: Identity, year: number): Promise<ReturnType<typeof planCard>>;
  /** Applies an edit (blank fields unchanged) to one session and reschedules it, in one transaction. */
  edit(identity: Identity, seq: number, fields: Partial<Record<EditField, string>>): Promise<SessionRow>;
  /** The year a plan command means when none is typed: this year, or next year in December. */
  defaultYear(identity: Identity): number;
  requireSecretary(ctx: { identity: Identity }): void;
}

export type EditField = 'time' | 'theme' | 'place' | 'format' | 'unit' | 'parts' | 'tag';

export const EDIT_WORDS: Record<string, EditField> = {
  时间: 'time',
  日期: 'time',
  time: 'time',
  主题: 'theme',
  theme: 'theme',
  地点: 'place',
  place: 'place',
  形式: 'format',
  format: 'format',
  承办: 'unit',
  承办单位: 'unit',
  unit: 'unit',
  环节: 'parts',
  parts: 'parts',
  标签: 'tag',
  tag: 'tag',
};

const REVIEW_STATE_KEYS = {
  pending: 'club.review.state.pending',
  submitted: 'club.review.state.submitted',
  returned: 'club.review.state.returned',
  approved: 'club.review.state.approved',
} as const;

export function createClub(deps: FeatureDeps, jobs: ClubJobs): Club {
  const { db, clock, messages } = deps;
  const t = messages.t;

  async function units(reader: Db | Tx, orgId: string) {
    const rows = await reader.unit.findMany({ where: { orgId } });
    const byName = new Map(rows.map((u) => [u.name.normalize('NFKC'), u]));
    const byId = new Map(rows.map((u) => [u.id, u.name]));
    return {
      byName: (name: string) => byName.get(name.normalize('NFKC')),
      name: (id: string | null) => (id ? (byId.get(id) ?? '') : ''),
    };
  }

  return {
    deps,
    jobs,
    units,
    defaultYear(identity) {
      const d = DateTime.fromJSDate(clock.now(), { zone: identity.timezone });
      return d.month === 12 ? d.year + 1 : d.year;
    },
    requireSecretary(ctx) {
      if (ctx.identity.role !== 'secretary') throw new UserError('club.secretary_only');
    },
    async planCardFor(identity, year) {
      const sessions = await sessionsOfYear(db, identity.orgId, year);
      const u = await units(db, identity.orgId);
      const reviews = await db.clubReview.findMany({ where: { sessionId: { in: sessions.map((s) => s.id) } } });
      const state = new Map(reviews.map((r) => [r.sessionId, r]));
      const now = clock.now();
      const lines: PlanLine[] = sessions.map((s) => {
        const r = state.get(s.id);
        const st = (r?.state ?? 'pending') as keyof typeof REVIEW_STATE_KEYS;
        const late = r && (st === 'pending' || st === 'returned') && r.dueAt < now && s.startsAt > now;
        return {
          session: s,
          unitName: u.name(s.unitId),
          review: t(REVIEW_STATE_KEYS[st] ?? 'club.review.state.pending') + (late ? t('club.review.late_mark') : ''),
        };
      });
      return planCard({ t, cards: deps.cards }, year, lines, identity.timezone);
    },
    async edit(identity, seq, fields) {
      const tz = identity.timezone;
      return db.$transaction(async (tx) => {
        const s = await sessionBySeq(tx, identity.orgId, seq);
        const u = await units(tx, identity.orgId);
        let startsAt = s.startsAt;
        if (fields.time?.trim()) {
          const text = fields.time.trim().normalize('NFKC');
          const m = /^(?:(\d{4})-(\d{1,2})-(\d{1,2})\s*)?(\d{1,2}):(\d{2})$/.exec(text);
          const base = DateTime.fromJSDate(s.startsAt, { zone: tz });
          const d = m
            ? DateTime.fromObject(
                {
                  year: m[1] ? Number(m[1]) : base.year,
                  month: m[2] ? Number(m[2]) : base.month,
                  day: m[3] ? Number(m[3]) : base.day,
                  hour: Number(m[4]),
                  minute: Number(m[5]),
                },
                { zone: tz },
              )
            : null;
          if (!d || !d.isValid) throw new UserError('club.edit.bad_time', { time: text });
          startsAt = d.toJSDate();
        }
        const draft = draftFromFields({
          startsAt,
          theme: fields.theme?.trim() || s.theme,
          unit: fields.unit?.trim() || u.name(s.unitId),
          place: fields.place?.trim() || s.place,
          format: fields.format?.trim() || s.format,
          parts: fields.parts?.trim(),
          tag: fields.tag?.trim() || s.tag,
          units: u,
        });
        const { year, month } = yearMonth(startsAt, tz);
        if (year !== s.year || month !== s.month) {
          const taken = await tx.clubSession.findUnique({
            where: { orgId_year_month: { orgId: identity.orgId, year, month } },
          });
          if (taken) throw new UserError('club.month_taken', { line: '', year, month, seq: taken.seq });
        }
        const updated = await tx.clubSession.update({
          where: { id: s.id },
          data: {
            startsAt,
            year,
            month,
            theme: draft.theme,
            place: draft.place,
            format: draft.format,
            unitId: draft.unitId,
            tag: draft.tag,
            ...(fields.parts?.trim() ? { parts: JSON.stringify(draft.parts) } : {}),
          },
        });
        if (updated.startsAt.getTime() !== s.startsAt.getTime())
          await jobs.scheduleFor(tx, updated, tz, await loadSettings(tx, identity.orgId));
        return updated;
      });
    },
  };
}

export function yearArg(ctx: CommandContext, club: Club, year?: number): number {
  return year ?? club.defaultYear(ctx.identity);
}
