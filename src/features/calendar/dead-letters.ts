import { z } from 'zod';
import { defineCommand, defineSubcommand } from '../../bot/commands.ts';
import type { CommandContext } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps } from '../../bot/feature.ts';
import { takeNumbers } from '../../lib/org-counter.ts';
import { outboxBodyColumn } from '../../outbox/outbox.ts';
import { formatLocal, retryOnUniqueViolation } from './reminder-payload.ts';

const COUNTER = 'outbox.dead';

/**
 * `发送失败` and `发送失败 重试 N`: messages the outbox gave up on. Each gets
 * its number (`deadSeq`) the first time it is listed, from a per-organisation
 * counter, and keeps it: a newer failure arriving between the list and the
 * retry does not shift which message `重试 3` means.
 */
export function createDeadLetters(deps: FeatureDeps) {
  const { db, messages, clock } = deps;
  const t = messages.t;

  const newest = (orgId: string) =>
    db.outboxMessage.findMany({
      where: { orgId, status: 'dead' },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: 20,
    });

  /** The newest dead letters, each numbered (numbers given now to those listed for the first time). */
  async function numbered(orgId: string) {
    const rows = await newest(orgId);
    const missing = rows.filter((r) => r.deadSeq === null).reverse();
    if (missing.length === 0) return rows;
    await retryOnUniqueViolation(() =>
      db.$transaction(async (tx) => {
        let n = await takeNumbers(tx, orgId, COUNTER, missing.length);
        // Conditional: a list shown at the same moment on another instance numbered it first (a gap, never a repeat).
        for (const row of missing)
          await tx.outboxMessage.updateMany({ where: { id: row.id, deadSeq: null }, data: { deadSeq: n++ } });
      }),
    );
    return newest(orgId);
  }

  async function list(ctx: CommandContext): Promise<void> {
    const dead = await numbered(ctx.identity.orgId);
    if (dead.length === 0) return void (await ctx.reply(t('outbox.dead.empty')));
    const lines = dead.map((row) => {
      let preview = row.kind;
      try {
        const body = outboxBodyColumn.parse(row.body);
        preview = 'text' in body ? body.text : body.card.header.title;
      } catch {
        // a malformed body is itself a reason it died; show the kind
      }
      return t('outbox.dead.line', {
        n: row.deadSeq ?? '?',
        time: formatLocal(row.createdAt, ctx.identity.timezone),
        target: t(row.targetKind === 'user' ? 'outbox.target.user' : 'outbox.target.chat', { id: row.targetId }),
        preview: preview.length > 40 ? `${preview.slice(0, 40)}…` : preview,
        error: (row.lastError ?? '').slice(0, 120),
      });
    });
    await ctx.reply(t('outbox.dead.list', { lines: lines.join('\n') }));
  }

  const number = z.object({
    n: z.coerce.number({ message: 'usage.number_required' }).int().positive({ message: 'usage.number_positive' }),
  });

  return defineCommand({
    name: 'outbox',
    zh: '发送失败',
    summaryKey: 'cmd.outbox.summary',
    usageKey: 'cmd.outbox.usage',
    scope: 'any',
    role: 'secretary',
    subcommands: [
      defineSubcommand({
        name: 'retry',
        zh: '重试',
        aliases: ['重发', '重新发送'],
        positionals: ['n'],
        args: number,
        async run(ctx, { n }) {
          const row = await db.outboxMessage.findFirst({ where: { orgId: ctx.identity.orgId, deadSeq: n } });
          if (!row) throw new UserError('outbox.dead.no_such', { n });
          const { count } = await db.outboxMessage.updateMany({
            where: { id: row.id, status: 'dead' },
            data: { status: 'pending', attempts: 0, nextAttemptAt: clock.now(), lastError: null },
          });
          if (count === 0) throw new UserError('outbox.dead.not_dead', { n });
          await ctx.reply(t('outbox.dead.retried', { n }));
        },
      }),
      // `发送失败 列表` reads as naturally as `发送失败`.
      defineSubcommand({ name: 'list', zh: '列表', aliases: ['dead', '查看'], run: (ctx) => list(ctx) }),
    ],
    run: (ctx) => list(ctx),
  });
}
