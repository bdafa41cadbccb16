import { isDatabaseUnavailable } from '../lib/db-health.ts';
import type {
  AckReply,
  ActionEvent,
  BotEvent,
  Card,
  ChatJoinedEvent,
  ChatLeftEvent,
  EventSink,
  Mention,
  MessageEvent,
  Target,
} from '../platforms/types.ts';
import type { Tx } from '../lib/db.ts';
import { isUniqueViolation } from '../lib/db.ts';
import { AlreadyProcessed } from '../lib/event-scope.ts';
import type { Logger } from '../lib/logger.ts';
import type { InboundDedupe } from '../lib/inbound-dedupe.ts';
import type { ActionSpec } from './actions.ts';
import { NoSubcommand, type CommandRegistry } from './commands.ts';
import type { Content } from './send.ts';
import { tokenize, UsageProblem } from './command-parser.ts';
import type {
  ActionContext,
  BotServices,
  ChatLeftHook,
  CommandContext,
  Identity,
  IdentityResolver,
  LeftChat,
  OtherTextHook,
  ReplyOptions,
} from './context.ts';
import { UserError } from './errors.ts';

export interface DispatchOutcome {
  status: 'handled' | 'duplicate' | 'ignored' | 'failed';
}

export interface Dispatcher extends EventSink {
  /** Like handleMessage, but tells what happened; for adapters and tests. */
  dispatchMessage(event: MessageEvent): Promise<DispatchOutcome>;
}

export function createDispatcher(deps: {
  services: BotServices;
  commands: CommandRegistry;
  actions: Map<string, ActionSpec>;
  identity: IdentityResolver;
  /** The bot's own user ids per platform, so it never answers itself. */
  isSelf?: (event: BotEvent) => boolean;
  /** Group-committed dedupe writes; without it each event inserts its own row. */
  dedupe?: InboundDedupe;
  /** Every feature's onChatLeft, run in one transaction when the bot leaves a group. */
  chatLeftHooks?: ChatLeftHook[];
  /** Every feature's onOtherText, tried in order on a message that names no command. */
  otherTextHooks?: OtherTextHook[];
}): Dispatcher {
  const { services, commands, actions } = deps;
  const { db, messages, log, send } = services;

  /** Records the event key; false when it was seen before (a platform retry). */
  async function firstSeen(event: { platform: string; eventKey: string }, tx?: Tx): Promise<boolean> {
    if (!tx && deps.dedupe) return deps.dedupe.firstSeen(event.platform, event.eventKey);
    try {
      await (tx ?? db).inboundEvent.create({
        data: { platform: event.platform, eventKey: event.eventKey, receivedAt: services.clock.now() },
      });
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  function replyTarget(event: BotEvent): Target {
    return event.chat.kind === 'direct' ? { kind: 'user', id: event.sender.id } : { kind: 'chat', id: event.chat.id };
  }

  function baseContext(event: BotEvent, identity: Identity) {
    const target = replyTarget(event);
    const replyHandle = event.type === 'message' ? event.replyHandle : undefined;
    const here = { platform: event.platform, orgId: identity.orgId };
    const asContent = (content: string | Content, mentions?: Mention[]): Content =>
      typeof content === 'string'
        ? { text: content, mentions }
        : mentions && !('card' in content)
          ? { ...content, mentions }
          : content;
    const toTarget = (to: Target, content: Content, opts?: { tx?: Tx; replyHandle?: string }) => {
      const sender = send.in(opts?.tx);
      return to.kind === 'chat'
        ? sender.toChat({ ...here, chatId: to.id }, content, { replyHandle: opts?.replyHandle })
        : sender.toUser({ ...here, userId: to.id }, content, { replyHandle: opts?.replyHandle });
    };
    let eventLog: Logger | undefined;
    return {
      platform: event.platform,
      identity,
      services,
      send,
      // Created on first use: a child logger per event is measurable on the click hot path.
      get log(): Logger {
        return (eventLog ??= log.child({ eventKey: event.eventKey, platform: event.platform }));
      },
      t: messages.t,
      reply: (content: string | Content, opts?: ReplyOptions) =>
        toTarget(target, asContent(content, opts?.mentions), { tx: opts?.tx, replyHandle }),
      replyCard: (card: Card, opts?: { tx?: Tx }) => toTarget(target, { card }, { tx: opts?.tx, replyHandle }),
      // In a private chat the reply handle still answers the same person; in a group it must not be used.
      replyPrivately: (content: string | Content, opts?: ReplyOptions) =>
        toTarget({ kind: 'user', id: event.sender.id }, asContent(content, opts?.mentions), {
          tx: opts?.tx,
          replyHandle: event.chat.kind === 'direct' ? replyHandle : undefined,
        }),
    };
  }

  function isForeign(event: BotEvent): boolean {
    return Boolean(event.sender.isBot) || Boolean(deps.isSelf?.(event));
  }

  async function dispatchMessage(event: MessageEvent): Promise<DispatchOutcome> {
    if (isForeign(event)) return { status: 'ignored' };
    // Real platforms deliver group messages only when the bot is mentioned;
    // anything else is chatter not meant for us.
    if (event.chat.kind === 'group' && !event.mentionedBot) return { status: 'ignored' };
    // A message from the inbox was deduped when it was recorded.
    if (!event.recorded && !(await firstSeen(event))) {
      log.info(
        { eventKey: event.eventKey, platform: event.platform },
        'message seen before (a platform retry); ignored',
      );
      return { status: 'duplicate' };
    }

    const fallbackTarget = replyTarget(event);
    const sayRaw = (text: string, orgId?: string) =>
      fallbackTarget.kind === 'chat'
        ? send.toChat(
            { platform: event.platform, orgId, chatId: fallbackTarget.id },
            { text },
            { replyHandle: event.replyHandle },
          )
        : send.toUser(
            { platform: event.platform, orgId, userId: fallbackTarget.id },
            { text },
            { replyHandle: event.replyHandle },
          );

    let identity: Identity | undefined;
    try {
      identity = await deps.identity.resolve(event);
      // Object.assign, not a spread: a spread would run the lazy `log` getter.
      const ctx: CommandContext = Object.assign(baseContext(event, identity), { event });
      const tokens = tokenize(event.text);
      const receiver = commands.fileReceiver(event.files?.[0]?.name);
      // A file with no words (how platforms deliver uploads) goes to the command that takes files.
      if (tokens.length === 0 && event.files?.length && receiver) tokens.push(receiver.name);
      const [name, ...rest] = tokens;
      if (name === undefined) {
        await ctx.reply(messages.t('hint.empty'));
        return { status: 'handled' };
      }
      const spec = commands.find(name);
      if (!spec) {
        for (const hook of deps.otherTextHooks ?? []) if (await hook(ctx)) return { status: 'handled' };
        const names = commands.suggest(name);
        const suggestion = names.length ? messages.t('error.unknown_command.suggest', { names: names.join('、') }) : '';
        await ctx.reply(messages.t('error.unknown_command', { name: name.slice(0, 40), suggestion }));
        return { status: 'handled' };
      }
      const mentionTokens = new Set(event.mentions.flatMap((m) => [`@${m.name}`, `@${m.id}`]));
      const words = rest.filter((t) => !mentionTokens.has(t));
      const routed = (() => {
        try {
          return commands.route(spec, words);
        } catch (err) {
          if (!(err instanceof NoSubcommand)) throw err;
          const names = (spec.subcommands ?? []).map((s) => s.zh).join('、');
          throw new UserError('error.usage', {
            problem: messages.t('error.usage.subcommand', { names }),
            usage: messages.t(spec.usageKey),
          });
        }
      })();
      const target = routed.target;
      if (target.scope !== 'any' && target.scope !== event.chat.kind) {
        throw new UserError(target.scope === 'group' ? 'error.scope.group' : 'error.scope.direct');
      }
      if (target.role === 'secretary' && identity.role !== 'secretary') {
        throw new UserError('error.forbidden.role', { role: messages.t('role.secretary') });
      }
      const args = (() => {
        try {
          return commands.parseArgs(target, routed.tokens);
        } catch (err) {
          if (err instanceof UsageProblem) {
            throw new UserError('error.usage', { problem: err.problem, usage: messages.t(target.usageKey) });
          }
          throw err;
        }
      })();
      await target.run(ctx, args);
      return { status: 'handled' };
    } catch (err) {
      // Processed before a crash (its first reply exists): the inbox marks it; nothing more to say.
      if (err instanceof AlreadyProcessed) throw err;
      // The database went away mid-command: an apology could not be written either, and a message
      // "handled" here would be marked processed by the inbox and never answered. Thrown, it is
      // taken up again after its lease, once the database is back (logged once, lib/db-health.ts).
      if (isDatabaseUnavailable(err)) throw err;
      if (err instanceof UserError) {
        await sayRaw(messages.t(err.key, err.params), identity?.orgId);
        return { status: 'handled' };
      }
      log.error({ err, eventKey: event.eventKey, platform: event.platform }, 'command failed');
      await sayRaw(messages.t('error.apology'), identity?.orgId).catch((e: unknown) =>
        log.error({ err: e, eventKey: event.eventKey }, 'could not even apologise'),
      );
      return { status: 'failed' };
    }
  }

  async function handleAction(event: ActionEvent): Promise<AckReply> {
    if (isForeign(event)) return {};
    const spec = actions.get(event.actionId);
    if (!spec?.recordsEvent && !(await firstSeen(event))) {
      log.info({ eventKey: event.eventKey, platform: event.platform }, 'action seen before (a replay); ignored');
      return {};
    }
    const errorToast = (text: string): AckReply => ({ toast: { kind: 'error', text } });
    if (!spec) return errorToast(messages.t('error.action.unknown'));
    const parsed = spec.payload.safeParse(event.payload);
    if (!parsed.success) {
      log.warn({ eventKey: event.eventKey, actionId: event.actionId }, 'action payload rejected');
      return errorToast(messages.t('error.action.payload'));
    }
    const form = spec.form?.safeParse(event.formValues ?? {});
    if (form && !form.success) {
      const raw = form.error.issues[0]?.message ?? '';
      const problem = messages.has(raw) ? messages.t(raw) : raw;
      return { toast: { kind: 'warning', text: messages.t('error.form.invalid', { problem }) } };
    }
    try {
      const identity = await deps.identity.resolve(event);
      if (spec.role === 'secretary' && identity.role !== 'secretary') {
        throw new UserError('error.forbidden.role', { role: messages.t('role.secretary') });
      }
      const ctx: ActionContext = Object.assign(baseContext(event, identity), {
        event,
        updateCard: async (card: Card, opts?: { tx?: Tx }) => {
          await send.in(opts?.tx).updateCard(
            {
              platform: event.platform,
              orgId: identity.orgId,
              target: { kind: 'chat', id: event.chat.id },
              messageId: event.card.messageId,
            },
            card,
          );
        },
      });
      return (await spec.run(ctx, parsed.data, form?.data)) ?? {};
    } catch (err) {
      if (err instanceof UserError) return { toast: { kind: 'warning', text: messages.t(err.key, err.params) } };
      log.error({ err, eventKey: event.eventKey, actionId: event.actionId }, 'action failed');
      return errorToast(messages.t('error.apology'));
    }
  }

  /**
   * Onboarding: the bot was added to a group. Registers the chat and posts the
   * welcome card; the dedupe row and the card commit together, so a platform
   * retry neither loses nor repeats the welcome.
   */
  async function handleChatJoined(event: ChatJoinedEvent): Promise<void> {
    try {
      const registered = await deps.identity.registerChat?.({
        platform: event.platform,
        tenant: event.tenant,
        platformChatId: event.chat.id,
        kind: 'group',
        title: event.chat.title ?? event.chat.id,
      });
      const card = services.cards.render('welcome', {
        chatTitle: event.chat.title ?? '',
        addedBy: event.addedBy?.name ?? '',
        adminEntry: event.addedBy ? `${event.platform}:${event.addedBy.id}` : '',
      });
      const fresh = await db.$transaction(async (tx) => {
        if (!(await firstSeen(event, tx))) return false;
        // Back in the group: it is a live chat again. Nothing paused resumes by
        // itself; the secretaries were told how to switch things back on.
        if (registered) {
          await tx.chat.updateMany({ where: { id: registered.chatId, leftAt: { not: null } }, data: { leftAt: null } });
        }
        await send
          .in(tx)
          .toChat({ platform: event.platform, orgId: registered?.orgId ?? null, chatId: event.chat.id }, { card });
        return true;
      });
      if (fresh) log.info({ eventKey: event.eventKey, platform: event.platform, chat: event.chat.id }, 'joined a chat');
    } catch (err) {
      log.error({ err, eventKey: event.eventKey, platform: event.platform }, 'onboarding failed');
    }
  }

  /**
   * The bot was removed from a group (or the group dissolved). Every feature
   * pauses what it runs there, the chat is marked left, messages still queued
   * for it are dropped and the secretaries are told privately; all in one
   * transaction with the dedupe row, so a replay changes nothing and says
   * nothing twice.
   */
  async function handleChatLeft(event: ChatLeftEvent): Promise<void> {
    const where = { platform: event.platform, platformChatId: event.chat.id };
    try {
      const chat = await db.chat.findUnique({ where: { platform_platformChatId: where } });
      if (!chat) {
        // Never registered (added while the bot was down, or another deployment's chat): nothing runs there.
        log.info({ eventKey: event.eventKey, platform: event.platform, chat: event.chat.id }, 'left an unknown chat');
        return;
      }
      const left: LeftChat = {
        orgId: chat.orgId,
        chatId: chat.id,
        platform: event.platform,
        platformChatId: event.chat.id,
      };
      const secretaries = (await deps.identity.secretaries?.(chat.orgId)) ?? [];
      const outcome = await db.$transaction(async (tx) => {
        if (!(await firstSeen(event, tx))) return null;
        // Already marked left: a replay that outlived the dedupe rows, or a second event
        // for the same departure (removed, then dissolved). Once is enough.
        const { count } = await tx.chat.updateMany({
          where: { id: chat.id, leftAt: null },
          data: { leftAt: services.clock.now() },
        });
        if (count === 0) return null;
        const paused = [];
        for (const hook of deps.chatLeftHooks ?? []) paused.push(...(await hook(left, tx)));
        // Anything still queued for the chat would only fail at the platform and be dead-lettered.
        const dropped = await tx.outboxMessage.updateMany({
          where: { platform: event.platform, targetKind: 'chat', targetId: event.chat.id, status: 'pending' },
          data: { status: 'cancelled', lastError: 'the bot left the chat' },
        });
        const lines = paused.map((p) => messages.t(p.key, p.params));
        const text = messages.t(lines.length ? 'chat.left.notice' : 'chat.left.notice.nothing', {
          title: event.chat.title ?? chat.title,
          lines: lines.join('\n'),
        });
        for (const s of secretaries) {
          await send
            .in(tx)
            .toUser(
              { platform: s.platform, orgId: chat.orgId, userId: s.platformUserId },
              { text },
              { meta: { report: 'chat-left' } },
            );
        }
        return { paused: paused.length, dropped: dropped.count };
      });
      if (!outcome) return;
      if (secretaries.length === 0) log.warn({ orgId: chat.orgId, chat: chat.id }, 'left a chat; no secretary to tell');
      log.info(
        { eventKey: event.eventKey, platform: event.platform, chat: event.chat.id, ...outcome },
        'left a chat; its plans are paused',
      );
    } catch (err) {
      log.error({ err, eventKey: event.eventKey, platform: event.platform }, 'leaving a chat failed');
    }
  }

  return {
    dispatchMessage,
    handleChatJoined,
    handleChatLeft,
    async handleMessage(event) {
      await dispatchMessage(event);
    },
    handleAction,
  };
}
