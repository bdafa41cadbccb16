import { randomUUID } from 'node:crypto';
import type { Identity } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { SendHub } from '../../bot/send.ts';
import type { Card } from '../../platforms/types.ts';
import { build } from './cards.ts';
import type { Club } from './core.ts';
import { sessionBySeq, type SessionRow } from './sessions.ts';

/**
 * The monthly plan review (送审): the co-hosting unit's contact submits the
 * detailed plan (text, or a file), a secretary approves it or sends it back
 * with a comment; every change is a ClubReviewEvent (who, when).
 */
type T = (key: MessageKey, params?: MessageParams) => string;

interface Actor {
  identity: Identity;
  send: SendHub;
}

/** The card the contact gets with each reminder: the plan can be typed into it. */
export function reviewCard(t: T, s: SessionRow, text: string): Card {
  return build({
    header: { title: t('club.review.card_title', { seq: s.seq }), colour: 'orange' },
    elements: [
      { type: 'markdown', text },
      {
        type: 'form',
        inputs: [{ name: 'plan', label: t('club.review.plan'), multiline: true }],
        submitText: t('club.review.submit_button'),
        actionId: 'club.review.submit',
        payload: { v: 1, seq: s.seq },
      },
    ],
  });
}

export async function submitPlan(
  club: Club,
  actor: Actor,
  seq: number,
  text: string,
  file?: { name: string; bytes: Uint8Array },
): Promise<SessionRow> {
  const { db, clock } = club.deps;
  const t = club.deps.messages.t;
  const { identity } = actor;
  const s = await sessionBySeq(db, identity.orgId, seq);
  const body = text.trim();
  if (!body && !file) throw new UserError('club.review.empty');
  if (body.length > 3000) throw new UserError('club.review.too_long', { max: 3000 });
  const review = await db.clubReview.findUnique({ where: { sessionId: s.id } });
  const contact = await club.jobs.reviewContact(db, s, review?.contactMemberId ?? null);
  const mayAct =
    identity.role === 'secretary' ||
    contact === identity.memberId ||
    (s.unitId !== null && identity.unitRoles.some((r) => r.unitId === s.unitId));
  if (!mayAct)
    throw new UserError('club.review.not_yours', {
      seq: s.seq,
      unit: (await club.units(db, s.orgId)).name(s.unitId) || '—',
    });
  const now = clock.now();
  await db.$transaction(async (tx) => {
    const current = await tx.clubReview.findUnique({ where: { sessionId: s.id } });
    if (!current) throw new UserError('club.no_session', { seq });
    if (current.state === 'approved') throw new UserError('club.review.already_approved', { seq });
    await tx.clubReview.update({
      where: { sessionId: s.id },
      data: { state: 'submitted', content: body, fileName: file?.name ?? null, updatedAt: now },
    });
    await tx.clubReviewEvent.create({
      data: { id: randomUUID(), sessionId: s.id, state: 'submitted', byMemberId: identity.memberId, at: now },
    });
    const send = actor.send.in(tx);
    await send.toSecretaries(s.orgId, {
      card: build({
        header: { title: t('club.review.submitted_title', { seq: s.seq }), colour: 'blue' },
        elements: [
          {
            type: 'fields',
            fields: [
              { label: t('club.field.theme'), value: s.theme },
              { label: t('club.review.by'), value: identity.displayName },
              { label: t('club.review.plan'), value: body || t('club.review.file', { name: file?.name ?? '' }) },
            ],
          },
          {
            type: 'buttons',
            buttons: [
              {
                text: t('club.review.approve_button'),
                style: 'primary',
                actionId: 'club.review.approve',
                payload: { v: 1, seq: s.seq },
              },
            ],
          },
          {
            type: 'form',
            inputs: [{ name: 'comment', label: t('club.review.comment') }],
            submitText: t('club.review.return_button'),
            actionId: 'club.review.return',
            payload: { v: 1, seq: s.seq },
          },
        ],
      }),
    });
    // The plan file itself, so the secretary can open it (a file message, or its link).
    if (file)
      await send.toSecretaries(s.orgId, {
        file: { name: file.name, contentType: 'application/octet-stream', bytes: file.bytes },
      });
  });
  return s;
}

/** A secretary approves or sends back a submitted plan; recorded, and the submitter told. */
export async function decide(
  club: Club,
  actor: Actor,
  seq: number,
  state: 'approved' | 'returned',
  comment: string,
): Promise<void> {
  const { db, clock } = club.deps;
  const t = club.deps.messages.t;
  const s = await sessionBySeq(db, actor.identity.orgId, seq);
  await db.$transaction(async (tx) => {
    const review = await tx.clubReview.findUnique({ where: { sessionId: s.id } });
    if (!review || review.state !== 'submitted')
      throw new UserError('club.review.not_submitted', {
        seq,
        state: t(`club.review.state.${review?.state ?? 'pending'}` as 'club.review.state.pending'),
      });
    const now = clock.now();
    await tx.clubReview.update({ where: { sessionId: s.id }, data: { state, updatedAt: now } });
    await tx.clubReviewEvent.create({
      data: { id: randomUUID(), sessionId: s.id, state, byMemberId: actor.identity.memberId, at: now, comment },
    });
    const submitter = await tx.clubReviewEvent.findFirst({
      where: { sessionId: s.id, state: 'submitted' },
      orderBy: { at: 'desc' },
    });
    if (submitter?.byMemberId)
      await actor.send.in(tx).toMember(submitter.byMemberId, {
        text: t(state === 'approved' ? 'club.review.approved_notice' : 'club.review.returned_notice', {
          seq,
          comment,
        }),
      });
  });
}
