/**
 * The seam between platforms and the bot. Adapters verify and parse what a
 * platform sends into these events, and implement PlatformMessenger to send.
 * Nothing here may name an SDK type.
 */
import { z } from 'zod';

export const PLATFORMS = ['sandbox', 'feishu', 'dingtalk'] as const;
export type Platform = (typeof PLATFORMS)[number];

export type ChatKind = 'group' | 'direct';

export interface ChatRef {
  id: string;
  kind: ChatKind;
  title?: string;
}

export interface Person {
  id: string;
  name?: string;
}

export interface Mention {
  id: string;
  name: string;
}
export const mentionSchema = z.object({ id: z.string(), name: z.string() }) satisfies z.ZodType<Mention>;

interface EventBase {
  platform: Platform;
  /** The organisation/tenant as the platform names it (Feishu tenant_key, DingTalk corpId). */
  tenant: string;
  /** De-duplication key, unique per platform (Feishu message_id/event_id, DingTalk msgId). */
  eventKey: string;
  chat: ChatRef;
  /** The person the platform vouches for; never taken from a card payload. */
  sender: Person & { isBot?: boolean };
  receivedAt: Date;
}

export interface MessageEvent extends EventBase {
  type: 'message';
  /** Text with the bot mention stripped; other mentions kept as `@name`. */
  text: string;
  mentions: Mention[];
  mentionedBot: boolean;
  /** Platform-specific reply handle (e.g. DingTalk sessionWebhook), opaque to the bot. */
  replyHandle?: string;
  /** Files attached to the message (e.g. a question bank to import). */
  files?: InboundFile[];
  /** Its key is already recorded (in the inbox, MessageInbox): the dispatcher does not dedupe it again. */
  recorded?: boolean;
}

export interface InboundFile {
  name: string;
  size?: number;
  /** Fetches the bytes lazily: platforms download on demand. */
  read(): Promise<Buffer>;
}

export interface CardRef {
  /** Our own message id (the outbox id) when known. */
  messageId: string;
  /** Platform token allowing a delayed update (Feishu callback token). */
  updateToken?: string;
}

export interface ActionEvent extends EventBase {
  type: 'action';
  actionId: string;
  /** Raw payload from the card; the action's own schema validates it. */
  payload: unknown;
  formValues?: Record<string, unknown>;
  card: CardRef;
}

export type BotEvent = MessageEvent | ActionEvent;

/**
 * The bot was added to a group (Feishu im.chat.member.bot.added_v1, DingTalk's
 * equivalent): register the chat and greet it. `addedBy` is who the platform
 * says added the bot, when it says so.
 */
export interface ChatJoinedEvent {
  type: 'chat_joined';
  platform: Platform;
  tenant: string;
  /** De-duplication key, unique per platform (the platform's event id). */
  eventKey: string;
  chat: ChatRef;
  addedBy?: Person;
  receivedAt: Date;
}

/**
 * The bot was removed from a group, or the group was dissolved (Feishu
 * im.chat.member.bot.deleted_v1 / im.chat.disbanded_v1). Nothing can be sent
 * there any more; the bot pauses what it runs in that chat and tells the
 * secretaries privately. `removedBy` is who the platform says did it.
 */
export interface ChatLeftEvent {
  type: 'chat_left';
  platform: Platform;
  tenant: string;
  /** De-duplication key, unique per platform (the platform's event id). */
  eventKey: string;
  /** The title, when the platform sends it (chats registered from a message only know their id). */
  chat: { id: string; title?: string };
  removedBy?: Person;
  receivedAt: Date;
}

/** What an action handler may answer synchronously, inside the platform deadline. */
export interface AckReply {
  toast?: { kind: 'success' | 'info' | 'warning' | 'error'; text: string };
  card?: Card;
}

// ---- The platform-neutral card ------------------------------------------------

export const CARD_COLOURS = ['blue', 'green', 'orange', 'red', 'grey', 'purple'] as const;

const actionRef = {
  actionId: z.string().min(1).max(64),
  payload: z.record(z.string(), z.unknown()).default({}),
};

/**
 * Where a link element may point: an http(s) URL, or a path on this bot
 * (`/files/...`, opened by the sandbox page). Other schemes (javascript:,
 * data:) and protocol-relative `//host` are refused.
 */
export const cardUrlSchema = z
  .string()
  .max(2000)
  .refine((u) => /^https?:\/\/[^\s]+$/i.test(u) || /^\/(?!\/)[^\s]*$/.test(u), {
    message: 'must be an http(s) URL or a path starting with /',
  });

/** Everything a card may show; a viewer section holds these (never another section). */
export const sectionElementSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('markdown'), text: z.string() }),
  z.object({
    type: z.literal('fields'),
    fields: z.array(z.object({ label: z.string(), value: z.string() })),
  }),
  z.object({ type: z.literal('divider') }),
  z.object({
    type: z.literal('buttons'),
    buttons: z
      .array(
        z.object({
          text: z.string().min(1),
          style: z.enum(['primary', 'default', 'danger']).default('default'),
          ...actionRef,
        }),
      )
      .min(1),
  }),
  /**
   * A button that opens a URL (a download) instead of calling the bot. It is
   * not an action: cardActions() leaves it out, and nothing comes back when
   * it is clicked.
   */
  z.object({
    type: z.literal('link'),
    text: z.string().min(1),
    url: cardUrlSchema,
    style: z.enum(['primary', 'default']).default('primary'),
  }),
  z.object({
    type: z.literal('choice'),
    name: z.string().min(1),
    multiple: z.boolean().default(false),
    options: z.array(z.object({ value: z.string(), text: z.string() })).min(1),
    submitText: z.string().min(1),
    ...actionRef,
  }),
  z.object({
    type: z.literal('form'),
    inputs: z
      .array(
        z.object({
          name: z.string().min(1),
          label: z.string(),
          placeholder: z.string().optional(),
          multiline: z.boolean().default(false),
        }),
      )
      .min(1),
    submitText: z.string().min(1),
    ...actionRef,
  }),
  z.object({
    type: z.literal('chart'),
    title: z.string().optional(),
    bars: z.array(z.object({ label: z.string(), value: z.number() })),
  }),
  z.object({
    type: z.literal('table'),
    columns: z.array(z.string()).min(1),
    rows: z.array(z.array(z.string())),
  }),
  z.object({ type: z.literal('note'), text: z.string() }),
]);

/**
 * Most members a viewer section may name. DingTalk carries every listed
 * member's section in one create/update call, so the map is bounded; a card
 * with more does not validate (cardSchema refuses it) — a feature with a
 * bigger audience shows the shared default and answers each member's own
 * state on click (toast / private message) instead.
 */
export const MAX_SECTION_VIEWERS = 1000;

/**
 * A part of the card that differs per viewer: each member listed in `byUser`
 * (platform user id → elements) sees their own elements, everyone else sees
 * `default`. Platforms that can (DingTalk private card data, the sandbox)
 * show each member theirs; Feishu group cards are shared and show `default`.
 * `key` names the section (stable across updates of the card). An update
 * replaces the map: list every member whose section should differ.
 */
export const viewerElementSchema = z.object({
  type: z.literal('viewer'),
  key: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'letters, digits and _, starting with a letter'),
  default: z.array(sectionElementSchema),
  byUser: z
    .record(z.string().min(1).max(200), z.array(sectionElementSchema))
    .refine((m) => Object.keys(m).length <= MAX_SECTION_VIEWERS, {
      message: `at most ${MAX_SECTION_VIEWERS} members may have their own section`,
    })
    .default({}),
});

export const cardElementSchema = z.discriminatedUnion('type', [...sectionElementSchema.options, viewerElementSchema]);

export const cardSchema = z.object({
  header: z.object({ title: z.string().min(1), colour: z.enum(CARD_COLOURS).default('blue') }),
  elements: z.array(cardElementSchema),
});

export type Card = z.infer<typeof cardSchema>;

/**
 * A card read back from a JSON column (outbox body, sandbox transcript): its
 * shape is checked, not every element. Cards are typed when built; re-running
 * the full schema at delivery would turn a renderer's quirk into a dead letter.
 */
export const storedCardSchema = z.custom<Card>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { header?: unknown }).header === 'object' &&
    Array.isArray((v as { elements?: unknown }).elements),
  { message: 'not a card (header and elements)' },
);
export type CardElement = z.infer<typeof cardElementSchema>;
/** An element that looks the same to everyone (anything but a viewer section). */
export type SectionElement = z.infer<typeof sectionElementSchema>;
export type ViewerElement = z.infer<typeof viewerElementSchema>;

/** The elements of a viewer section that `viewer` sees (`default` when not listed or unknown). */
export function sectionFor(el: ViewerElement, viewer: string | undefined): SectionElement[] {
  return (viewer !== undefined && Object.hasOwn(el.byUser, viewer) ? el.byUser[viewer] : undefined) ?? el.default;
}

/**
 * The card as one viewer sees it: every viewer section replaced by that
 * viewer's elements (`default` for everyone else, and for `undefined`).
 */
export function cardForViewer(card: Card, viewer: string | undefined): Card & { elements: SectionElement[] } {
  return {
    ...card,
    elements: card.elements.flatMap((el) => (el.type === 'viewer' ? sectionFor(el, viewer) : [el])),
  };
}

/** Every member some viewer section of the card names. */
export function cardViewers(card: Card): string[] {
  const out = new Set<string>();
  for (const el of card.elements) if (el.type === 'viewer') for (const u of Object.keys(el.byUser)) out.add(u);
  return [...out];
}

function elementActions(el: SectionElement): { actionId: string; payload: Record<string, unknown> }[] {
  return el.type === 'buttons'
    ? el.buttons.map((b) => ({ actionId: b.actionId, payload: b.payload }))
    : el.type === 'choice' || el.type === 'form'
      ? [{ actionId: el.actionId, payload: el.payload }]
      : [];
}

/**
 * Every action a card offers to click or submit: its buttons, choices and
 * forms (not its links), including those inside every viewer's section.
 */
export function cardActions(card: Card): { actionId: string; payload: Record<string, unknown> }[] {
  return card.elements.flatMap((el) =>
    el.type === 'viewer'
      ? [...el.default, ...Object.values(el.byUser).flat()].flatMap(elementActions)
      : elementActions(el),
  );
}

/** Input form of a card (defaults not yet applied), what builders write. */
export type CardInput = z.input<typeof cardSchema>;

// ---- Outbound -------------------------------------------------------------------

export interface Target {
  kind: 'chat' | 'user';
  /** Platform chat id, or platform user id for a private message. */
  id: string;
}

export interface SentRef {
  platformMessageId: string;
}

export interface SendOptions {
  /** Stable per message: platforms that support it drop repeats (Feishu uuid, DingTalk outTrackId). */
  idempotencyKey: string;
  mentions?: Mention[];
  /** Opaque reply handle from the inbound event, when still valid. */
  replyHandle?: string;
}

/**
 * Failure classes the outbox acts on: retry later, give up, or give up and
 * tell the secretaries why (bot removed from chat, message too long...).
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly kind: 'retry' | 'permanent',
    readonly retryAfterMs?: number,
    /** A message-catalogue key explaining a permanent failure to secretaries. */
    readonly reasonKey?: string,
    /** Which limit a throttling answer was about; the worker pauses that bucket (default: the app). */
    readonly scope?: 'app' | 'chat' | 'user',
  ) {
    super(message);
    this.name = 'DeliveryError';
  }

  /**
   * The platform said "too fast" (429, frequency control): not a failure of
   * the message, so the worker waits out the pause without spending one of
   * its attempts; a storm longer than the retry budget must not dead-letter.
   */
  throttled = false;

  static throttle(message: string, retryAfterMs: number, scope?: 'app' | 'chat' | 'user'): DeliveryError {
    const err = new DeliveryError(message, 'retry', retryAfterMs, undefined, scope);
    err.throttled = true;
    return err;
  }
}

/** A token-bucket limit: `rate` sends per `perMs`, bursting up to `burst`. */
export interface RateLimit {
  rate: number;
  perMs: number;
  burst?: number;
  /**
   * "At most `rate` in any `perMs`", counted exactly (the last `rate` send
   * times) instead of as a token bucket: for a long window such as Feishu's
   * 1000 a minute, where any bucket either wastes most of the window or lets
   * nearly twice the limit through in its first minute.
   */
  sliding?: boolean;
}

/** The platform's documented send limits; the outbox worker enforces them. */
export interface RateLimits {
  perApp?: RateLimit[];
  perChat?: RateLimit[];
  perUser?: RateLimit[];
}

/** A file to send as a file message (the bytes travel; the outbox row holds only the stored file's id). */
export interface OutboundFile {
  name: string;
  contentType: string;
  bytes: Uint8Array;
  /** The download link of the stored copy, for platforms that show a link (the sandbox page). */
  url?: string;
}

/** Implemented once per platform; only the outbox worker calls it. */
export interface PlatformMessenger {
  platform: Platform;
  rateLimits?: RateLimits;
  /** Longest text the platform accepts, so features can refuse before saving. */
  maxTextLength?: number;
  sendText(target: Target, text: string, opts: SendOptions): Promise<SentRef>;
  sendCard(target: Target, card: Card, opts: SendOptions): Promise<SentRef>;
  updateCard(ref: SentRef & { target: Target }, card: Card, opts: SendOptions): Promise<void>;
  /**
   * Optional: upload a file and send it as a file message. Platforms without
   * it get the download link instead; a permanent DeliveryError (type or
   * size refused) makes the outbox fall back to the link too.
   */
  sendFile?(target: Target, file: OutboundFile, opts: SendOptions): Promise<SentRef>;
  /** The largest file sendFile takes (the platform's upload limit); larger files go as links. */
  maxFileBytes?: number;
}

/** One person in a group chat, as the platform lists them. */
export interface ChatMemberInfo {
  id: string;
  name: string;
}

/**
 * Who is in a chat, for platforms that can say (Feishu's chat-members API,
 * the sandbox's seeded chats). Separate from PlatformMessenger: that port is
 * the outbox worker's and only sends. A platform without a way to list an
 * ordinary group (a DingTalk robot) offers none, and the directory falls back
 * to the members it has seen in the chat.
 */
export interface PlatformDirectory {
  platform: Platform;
  /** Everyone in the group (bots left out). Throws when the platform refuses or fails part-way. */
  listChatMembers(chatId: string): Promise<ChatMemberInfo[]>;
}

/** What an adapter hands inbound events to (the dispatcher). */
/**
 * Where an adapter records an inbound message before it acknowledges it (the
 * transactional inbox, src/inbox/). `record` resolves once the message is
 * durably stored (group-committed with others); only then may the platform
 * be answered. `fresh` is false when its key was seen before (a re-push):
 * nothing more happens. A fresh message is then processed by calling the
 * handler its platform registered with the stored payload, on this instance
 * at once, or after a crash on whichever instance picks it up. `processed`
 * settles when this instance has processed it (the sandbox answers after that).
 */
export interface MessageInbox {
  handle(platform: Platform, handler: InboxHandler): void;
  record(platform: Platform, eventKey: string, payload: unknown): Promise<{ fresh: boolean; processed: Promise<void> }>;
}

/** Decodes a stored payload and hands the message to the sink; `durable`: the inbox recorded its key. */
export type InboxHandler = (payload: unknown, meta: { eventKey: string; durable: boolean }) => Promise<void>;

/**
 * An inbox that keeps nothing: processes each message in the background at
 * once (and lets the dispatcher dedupe it). For adapters built without the
 * database inbox (unit tests of an adapter alone).
 */
export function createDirectInbox(onError: (err: unknown) => void): MessageInbox {
  const handlers = new Map<Platform, InboxHandler>();
  return {
    handle(platform, handler) {
      handlers.set(platform, handler);
    },
    record(platform, eventKey, payload) {
      const handler = handlers.get(platform);
      const processed = Promise.resolve()
        .then(() => handler?.(JSON.parse(JSON.stringify(payload)) as unknown, { eventKey, durable: false }))
        .catch(onError);
      return Promise.resolve({ fresh: true, processed });
    },
  };
}

export interface EventSink {
  handleMessage(event: MessageEvent): Promise<void>;
  handleAction(event: ActionEvent): Promise<AckReply>;
  /** Optional: the bot joined a group chat (onboarding). Adapters skip it when absent. */
  handleChatJoined?(event: ChatJoinedEvent): Promise<void>;
  /** Optional: the bot left a group chat (removed, or the group dissolved). Adapters skip it when absent. */
  handleChatLeft?(event: ChatLeftEvent): Promise<void>;
}

// ---- Platform usage (API quotas) ----------------------------------------------------

/** Calls to one platform API in a month. */
export interface ApiUsage {
  api: string;
  calls: number;
  errors: number;
}

/** A tenant's API use in one calendar month, as the platform counts it against a quota. */
export interface MonthUsage {
  platform: Platform;
  tenant: string;
  /** `YYYY-MM` in the bot's time zone. */
  month: string;
  /** Calls counted towards the quota. */
  used: number;
  quota: number;
  /** The counted calls per API, most first. */
  byApi: ApiUsage[];
  /** Calls made that the platform does not count (e.g. DingTalk sessionWebhook replies). */
  uncounted: number;
}

/** A tenant's monthly count passed a warning level (percent of the quota). */
export interface UsageCrossing {
  platform: Platform;
  tenant: string;
  month: string;
  used: number;
  quota: number;
  level: number;
}

/**
 * Runs `write` in one database transaction with the record "warned for this
 * tenant, month and level"; false (and nothing written) when that record
 * already exists — another instance, or an earlier run, warned.
 */
export type OnceForCrossing<Tx> = (write: (tx: Tx) => Promise<void>) => Promise<boolean>;

/**
 * The port through which features read a platform's API usage, implemented
 * by adapters whose platform has a quota (DingTalk). A crossing handler does
 * its reads first, then its writes (outbox rows) through `once`, so the
 * warning goes out once across all instances or not at all. `Tx` is the
 * database transaction type; the seam names no database library.
 */
export interface PlatformUsage<Tx = unknown> {
  platform: Platform;
  monthUsage(tenant: string, month: string): Promise<MonthUsage>;
  onCrossing(handler: (crossing: UsageCrossing, once: OnceForCrossing<Tx>) => Promise<void>): void;
}
