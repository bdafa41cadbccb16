import { createHmac } from 'node:crypto';
import { plainText, renderMarked, safeMarkup } from '../text.ts';
import { cardViewers, sectionFor, type Card, type SectionElement } from '../types.ts';
import { safeEqual } from './verify.ts';

/**
 * Neutral card → DingTalk. Two renderings:
 * - template variables for the generic card-platform template in
 *   cards/dingtalk/ (title, markdown body, buttons with callback params,
 *   a private result line), used when DINGTALK_CARD_TEMPLATE_ID is set;
 * - a markdown message, used without a template, where every action is
 *   listed as a text command (`按 1a2b 1`, sent with an @-mention of the robot)
 *   so nothing becomes unreachable.
 *
 * Elements a plain button cannot express (multiple choice, text inputs) are
 * listed as text commands in both renderings; link elements are markdown
 * links in the body.
 *
 * Viewer sections (elements that differ per member) go into the template's
 * section slot below the body: the public card data holds the `default`
 * section, and each member named in `byUser` gets their own section as card
 * private data (private variables `mySection`…), which DingTalk shows to
 * that member only — one create call and one update call for the whole
 * group, however many members differ. The markdown rendering cannot vary:
 * it shows the defaults in a group, and the member's own section in a
 * private chat.
 */

/** DingTalk limits a card variable value to about 1 KB; the body is spread over these slots. */
export const BODY_SLOTS = 6;
export const BODY_SLOT_BYTES = 1000;

/** What a button (or text command) carries, signed so edited callback params are refused. */
export interface ActionData {
  /** actionId */
  a: string;
  /** payload */
  p: Record<string, unknown>;
  /** formValues */
  f?: Record<string, unknown>;
}

/** One thing a member can do on a card, numbered from 1 in reading order. */
export interface CardActionable {
  n: number;
  label: string;
  kind: 'button' | 'choice' | 'form';
  actionId: string;
  payload: Record<string, unknown>;
  /** For choices: the field name and the allowed values; for forms: the input names. */
  field?: string;
  values?: string[];
  multiple?: boolean;
  inputs?: string[];
  /** For forms: what each input is called on the card, shown in the text command instead of its name. */
  inputLabels?: string[];
}

function actionablesIn(elements: SectionElement[], out: CardActionable[]): void {
  for (const el of elements) {
    if (el.type === 'buttons') {
      for (const b of el.buttons)
        out.push({ n: out.length + 1, label: b.text, kind: 'button', actionId: b.actionId, payload: b.payload });
    } else if (el.type === 'choice') {
      out.push({
        n: out.length + 1,
        label: el.submitText,
        kind: 'choice',
        actionId: el.actionId,
        payload: el.payload,
        field: el.name,
        values: el.options.map((o) => o.value),
        multiple: el.multiple,
      });
    } else if (el.type === 'form') {
      out.push({
        n: out.length + 1,
        label: el.submitText,
        kind: 'form',
        actionId: el.actionId,
        payload: el.payload,
        inputs: el.inputs.map((i) => i.name),
        inputLabels: el.inputs.map((i) => i.label || i.name),
      });
    }
  }
}

/** The elements everyone sees (viewer sections left out). */
function sharedElements(card: Card): SectionElement[] {
  return card.elements.filter((el): el is SectionElement => el.type !== 'viewer');
}

/** The viewer-section elements `viewer` sees, all sections of the card in order (`default` for undefined). */
function sectionElements(card: Card, viewer: string | undefined): SectionElement[] {
  return card.elements.flatMap((el) => (el.type === 'viewer' ? sectionFor(el, viewer) : []));
}

/**
 * The actions `viewer` can take, numbered from 1: first those everyone sees,
 * in reading order, then those of the viewer's own sections — so the numbers
 * of the shared part are the same for every member, whatever their section
 * holds. Without a viewer, the sections' defaults.
 */
export function listActionables(card: Card, viewer?: string): CardActionable[] {
  const out: CardActionable[] = [];
  actionablesIn(sharedElements(card), out);
  actionablesIn(sectionElements(card, viewer), out);
  return out;
}

/** The short per-card code used in text commands: the first 4 hex digits of our message id. */
export function cardCode(messageId: string): string {
  return messageId.replace(/-/g, '').slice(0, 4).toLowerCase();
}

export interface CommandHint {
  /** The card's code (cardCode of our message id). */
  code: string;
}

function commandFor(hint: CommandHint, a: CardActionable): string {
  const base = `按 ${hint.code} ${a.n}`;
  if (a.kind === 'choice')
    return `${base} ${a.multiple ? (a.values ?? []).slice(0, 2).join(' ') : (a.values?.[0] ?? '')}`;
  if (a.kind === 'form') return `${base} ${(a.inputLabels ?? a.inputs ?? []).map((i) => `<${i}>`).join(' | ')}`;
  return base;
}

// ---- signing -------------------------------------------------------------------

export interface ParamSigner {
  sign(outTrackId: string, data: ActionData): { d: string; s: string };
  /** The action data when the signature matches this card, otherwise undefined. */
  open(outTrackId: string, d: unknown, s: unknown): ActionData | undefined;
}

export function createParamSigner(secret: string): ParamSigner {
  // A key of its own, so a leaked callback signature says nothing about the app secret.
  const key = createHmac('sha256', secret).update('shuxiang/dingtalk/card-params/v1').digest();
  const mac = (outTrackId: string, d: string) =>
    createHmac('sha256', key).update(`${outTrackId}\n${d}`).digest('base64url').slice(0, 32);
  return {
    sign(outTrackId, data) {
      const d = JSON.stringify(data);
      return { d, s: mac(outTrackId, d) };
    },
    open(outTrackId, d, s) {
      if (typeof d !== 'string' || typeof s !== 'string') return undefined;
      if (!safeEqual(mac(outTrackId, d), s)) return undefined;
      try {
        const parsed = JSON.parse(d) as ActionData;
        if (typeof parsed?.a !== 'string' || typeof parsed.p !== 'object' || parsed.p === null) return undefined;
        return parsed;
      } catch {
        return undefined;
      }
    },
  };
}

// ---- markdown ------------------------------------------------------------------

const BAR = '▇';

/** The robot's name is not known to the bot, so the heading says "@我" once instead of naming it per line. */
const COMMANDS_HEADING = '**在群里 @我 发送以下命令操作（私聊直接发送）：**';

function elementMarkdown(el: SectionElement): string | undefined {
  switch (el.type) {
    case 'markdown':
      return dingTalkMarkdown(el.text);
    case 'fields':
      return el.fields.map((f) => `**${text(f.label)}**：${text(f.value)}`).join('\n');
    case 'divider':
      return '---';
    case 'note':
      return `> ${dingTalkMarkdown(el.text).replace(/\n/g, '\n> ')}`;
    case 'chart': {
      const max = Math.max(1, ...el.bars.map((b) => b.value));
      const lines = el.bars.map(
        (b) =>
          `${text(b.label)} ${BAR.repeat(Math.max(b.value > 0 ? 1 : 0, Math.round((b.value / max) * 10)))} ${b.value}`,
      );
      return [el.title ? `**${text(el.title)}**` : undefined, ...lines].filter(Boolean).join('\n');
    }
    case 'table':
      return [
        `| ${el.columns.map(text).join(' | ')} |`,
        `| ${el.columns.map(() => '---').join(' | ')} |`,
        ...el.rows.map((r) => `| ${r.map(text).join(' | ')} |`),
      ].join('\n');
    case 'link':
      // The generic template's buttons are callbacks only, so a link is a markdown link in the
      // body, in both renderings; DingTalk opens it in its browser, which downloads the file.
      return `[${text(el.text)}](${el.url.replace(/[()\s]/g, encodeURIComponent)})`;
    case 'choice':
      return el.options.map((o) => `- **${text(o.value)}** ${text(o.text)}`).join('\n');
    case 'buttons':
    case 'form':
      return undefined;
  }
}

/**
 * DingTalk markdown reads links, images, headings, emphasis, lists, tables
 * and some HTML (`<font>`, `<a atId=…>` mentions in cards). Member text is
 * shown literally: each character that could start any of those is written
 * as an HTML character reference.
 */
export function escapeDingTalkText(s: string): string {
  return s
    .replace(/[&<>*_~`[\]()#!|\\$]/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(/^(\s*)([-+])/gm, (_, sp: string, c: string) => `${sp}&#${c.charCodeAt(0)};`)
    .replace(/^(\s*\d+)\./gm, '$1&#46;')
    .replace(/:\/\//g, '&#58;//')
    .replace(/\n/g, ' ');
}

/** A plain field (label, value, cell, option, button) inside DingTalk markdown. */
const text = (s: string) => escapeDingTalkText(plainText(s));

/** A markdown or note text: the bot's markup with member spans shown literally (newlines kept). */
export function dingTalkMarkdown(s: string): string {
  return renderMarked(s, {
    member: (m) => m.split('\n').map(escapeDingTalkText).join('\n'),
    markup: safeMarkup,
  });
}

/** Readable markdown of some elements (links included), without any actions. */
function elementsMarkdown(elements: SectionElement[]): string {
  return elements
    .map(elementMarkdown)
    .filter((s): s is string => Boolean(s))
    .join('\n\n');
}

/** The card's readable body as `viewer` sees it (links included), without any actions; sections in place. */
export function cardBodyMarkdown(card: Card, viewer?: string): string {
  return elementsMarkdown(card.elements.flatMap((el) => (el.type === 'viewer' ? sectionFor(el, viewer) : [el])));
}

/**
 * DingTalk message markdown needs explicit hard breaks (two spaces before
 * the newline); paragraphs keep their blank line.
 */
export function toMessageMarkdown(text: string): string {
  return text
    .split('\n\n')
    .map((p) => p.replace(/\n/g, '  \n'))
    .join('\n\n');
}

/**
 * The whole card as one markdown message, every action listed as a text
 * command. A message looks the same to everyone in a group: pass `viewer`
 * only for a private chat, whose one member then sees their own sections.
 */
export function renderMarkdownMessage(card: Card, hint: CommandHint, viewer?: string): { title: string; text: string } {
  const actionables = listActionables(card, viewer);
  const lines: string[] = [`#### ${text(card.header.title)}`, cardBodyMarkdown(card, viewer)];
  if (actionables.length > 0) {
    lines.push([COMMANDS_HEADING, ...actionables.map((a) => `- ${text(a.label)}：${commandFor(hint, a)}`)].join('\n'));
  }
  return { title: plainText(card.header.title), text: toMessageMarkdown(lines.filter(Boolean).join('\n\n')) };
}

// ---- template variables --------------------------------------------------------

const BUTTON_COLOURS: Record<string, string> = { primary: 'blue', default: 'gray', danger: 'red' };

export interface TemplateButton {
  text: string;
  color: string;
  d: string;
  s: string;
}

/** Splits markdown into slot-sized pieces on line boundaries (UTF-8 bytes, not characters). */
export function splitIntoSlots(text: string, slots = BODY_SLOTS, bytes = BODY_SLOT_BYTES): string[] {
  const out: string[] = [];
  let current = '';
  const size = (s: string) => Buffer.byteLength(s, 'utf8');
  for (const line of text.split('\n')) {
    const pieces: string[] = [];
    // A single overlong line is cut by characters.
    let rest = line;
    while (size(rest) > bytes) {
      let cut = Math.floor(bytes / 3);
      while (cut < rest.length && size(rest.slice(0, cut + 1)) <= bytes) cut++;
      pieces.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    pieces.push(rest);
    for (const piece of pieces) {
      const next = current ? `${current}\n${piece}` : piece;
      if (size(next) <= bytes) current = next;
      else {
        out.push(current);
        current = piece;
      }
    }
  }
  if (current) out.push(current);
  if (out.length > slots) {
    const kept = out.slice(0, slots);
    kept[slots - 1] = `${kept[slots - 1]!.slice(0, Math.max(0, kept[slots - 1]!.length - 20))}\n…（内容过长，已截断）`;
    return kept;
  }
  return out;
}

function templateButtons(
  elements: SectionElement[],
  opts: { outTrackId: string; signer: ParamSigner },
): TemplateButton[] {
  const buttons: TemplateButton[] = [];
  for (const el of elements) {
    if (el.type === 'buttons') {
      for (const b of el.buttons) {
        buttons.push({
          text: plainText(b.text),
          color: BUTTON_COLOURS[b.style] ?? 'gray',
          ...opts.signer.sign(opts.outTrackId, { a: b.actionId, p: b.payload }),
        });
      }
    } else if (el.type === 'choice' && !el.multiple) {
      // A single choice is one button per option.
      for (const o of el.options) {
        buttons.push({
          text: plainText(`${o.value}. ${o.text}`).slice(0, 40),
          color: 'gray',
          ...opts.signer.sign(opts.outTrackId, { a: el.actionId, p: el.payload, f: { [el.name]: o.value } }),
        });
      }
    }
  }
  return buttons;
}

/** What buttons cannot express stays reachable as a text command. */
function commandBlock(actionables: CardActionable[], hint: CommandHint): string {
  const lines = actionables
    .filter((a) => a.kind === 'form' || (a.kind === 'choice' && a.multiple))
    .map((a) => `- ${text(a.label)}：${commandFor(hint, a)}`);
  return lines.length ? [COMMANDS_HEADING, ...lines].join('\n') : '';
}

interface TemplateOptions {
  outTrackId: string;
  signer: ParamSigner;
  hint: CommandHint;
}

/** A viewer's sections: markdown (one slot, ≤1 KB like every card variable) and signed buttons. */
function renderSection(card: Card, viewer: string | undefined, opts: TemplateOptions) {
  // Numbered after the shared actions, as listActionables numbers them for this viewer.
  const own = listActionables(card, viewer).slice(countShared(card));
  const elements = sectionElements(card, viewer);
  const text = [elementsMarkdown(elements), commandBlock(own, opts.hint)].filter(Boolean).join('\n\n');
  const buttons = templateButtons(elements, opts);
  return { text: text ? splitIntoSlots(text, 1)[0]! : '', buttons };
}

function countShared(card: Card): number {
  const out: CardActionable[] = [];
  actionablesIn(sharedElements(card), out);
  return out.length;
}

/**
 * The cardParamMap for the generic template. Values are strings (DingTalk's
 * rule); arrays go as JSON strings. Buttons carry signed `d`/`s` params bound
 * to this card's outTrackId. The section slot holds the viewer sections'
 * defaults; members with their own get them through renderViewerPrivateData.
 */
export function renderTemplateParams(card: Card, opts: TemplateOptions): Record<string, string> {
  const shared = sharedElements(card);
  const buttons = templateButtons(shared, opts);
  const sharedActions = listActionables(card).slice(0, countShared(card));
  const body = [elementsMarkdown(shared), commandBlock(sharedActions, opts.hint)].filter(Boolean).join('\n\n');
  const slots = splitIntoSlots(body);
  const section = renderSection(card, undefined, opts);
  const params: Record<string, string> = {
    title: plainText(card.header.title),
    colour: card.header.colour,
    buttons: JSON.stringify(buttons),
    hasButtons: String(buttons.length > 0),
    section: section.text,
    sectionButtons: JSON.stringify(section.buttons),
    hasSectionButtons: String(section.buttons.length > 0),
  };
  for (let i = 0; i < BODY_SLOTS; i++) params[`body${i + 1}`] = slots[i] ?? '';
  return params;
}

/** The template's private variables that carry a member's own section (see cards/dingtalk/). */
export const PRIVATE_SECTION_KEYS = ['hasMySection', 'mySection', 'mySectionButtons', 'hasMySectionButtons'] as const;

/**
 * One member's private section variables. A member without their own
 * section gets `hasMySection: false` (the template then shows the public
 * default), which also clears a section they had before.
 */
export function renderPrivateSection(card: Card, userId: string, opts: TemplateOptions): Record<string, string> {
  const own = card.elements.some((el) => el.type === 'viewer' && Object.hasOwn(el.byUser, userId));
  if (!own) return { hasMySection: 'false', mySection: '', mySectionButtons: '[]', hasMySectionButtons: 'false' };
  const section = renderSection(card, userId, opts);
  return {
    hasMySection: 'true',
    mySection: section.text,
    mySectionButtons: JSON.stringify(section.buttons),
    hasMySectionButtons: String(section.buttons.length > 0),
  };
}

/**
 * `privateData` for the card API: every member the card's viewer sections
 * name, keyed by userId. Empty when the card has no per-member section.
 */
export function renderViewerPrivateData(
  card: Card,
  opts: TemplateOptions,
): Record<string, { cardParamMap: Record<string, string> }> {
  return Object.fromEntries(
    cardViewers(card).map((userId) => [userId, { cardParamMap: renderPrivateSection(card, userId, opts) }]),
  );
}

/** The private, per-member result line (from an AckReply toast). */
export function renderPrivateResult(toast: { kind: string; text: string }): Record<string, string> {
  const icon = { success: '✅', info: 'ℹ️', warning: '⚠️', error: '❌' }[toast.kind] ?? '';
  return { result: `${icon} ${plainText(toast.text)}`.trim(), resultKind: toast.kind };
}
