import { createHmac } from 'node:crypto';
import type { Card, CardElement } from '../types.ts';
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
}

export function listActionables(card: Card): CardActionable[] {
  const out: CardActionable[] = [];
  for (const el of card.elements) {
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
      });
    }
  }
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
  if (a.kind === 'form') return `${base} ${(a.inputs ?? []).map((i) => `<${i}>`).join(' | ')}`;
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

function elementMarkdown(el: CardElement): string | undefined {
  switch (el.type) {
    case 'markdown':
      return el.text;
    case 'fields':
      return el.fields.map((f) => `**${f.label}**：${f.value}`).join('\n');
    case 'divider':
      return '---';
    case 'note':
      return `> ${el.text.replace(/\n/g, '\n> ')}`;
    case 'chart': {
      const max = Math.max(1, ...el.bars.map((b) => b.value));
      const lines = el.bars.map(
        (b) => `${b.label} ${BAR.repeat(Math.max(b.value > 0 ? 1 : 0, Math.round((b.value / max) * 10)))} ${b.value}`,
      );
      return [el.title ? `**${el.title}**` : undefined, ...lines].filter(Boolean).join('\n');
    }
    case 'table':
      return [
        `| ${el.columns.join(' | ')} |`,
        `| ${el.columns.map(() => '---').join(' | ')} |`,
        ...el.rows.map((r) => `| ${r.join(' | ')} |`),
      ].join('\n');
    case 'link':
      // The generic template's buttons are callbacks only, so a link is a markdown link in the
      // body, in both renderings; DingTalk opens it in its browser, which downloads the file.
      return `[${escapeLinkText(el.text)}](${el.url.replace(/[()\s]/g, encodeURIComponent)})`;
    case 'choice':
      return el.options.map((o) => `- **${o.value}** ${o.text}`).join('\n');
    case 'buttons':
    case 'form':
      return undefined;
  }
}

/** Brackets would end the link text early. */
function escapeLinkText(text: string): string {
  return text.replace(/[[\]]/g, (c) => `\\${c}`);
}

/** The card's readable body (links included), without any actions. */
export function cardBodyMarkdown(card: Card): string {
  return card.elements
    .map(elementMarkdown)
    .filter((s): s is string => Boolean(s))
    .join('\n\n');
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

/** The whole card as one markdown message, every action listed as a text command. */
export function renderMarkdownMessage(card: Card, hint: CommandHint): { title: string; text: string } {
  const actionables = listActionables(card);
  const lines: string[] = [`#### ${card.header.title}`, cardBodyMarkdown(card)];
  if (actionables.length > 0) {
    lines.push([COMMANDS_HEADING, ...actionables.map((a) => `- ${a.label}：${commandFor(hint, a)}`)].join('\n'));
  }
  return { title: card.header.title, text: toMessageMarkdown(lines.filter(Boolean).join('\n\n')) };
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

/**
 * The cardParamMap for the generic template. Values are strings (DingTalk's
 * rule); arrays go as JSON strings. Buttons carry signed `d`/`s` params bound
 * to this card's outTrackId.
 */
export function renderTemplateParams(
  card: Card,
  opts: { outTrackId: string; signer: ParamSigner; hint: CommandHint },
): Record<string, string> {
  const buttons: TemplateButton[] = [];
  const commandLines: string[] = [];
  for (const el of card.elements) {
    if (el.type === 'buttons') {
      for (const b of el.buttons) {
        buttons.push({
          text: b.text,
          color: BUTTON_COLOURS[b.style] ?? 'gray',
          ...opts.signer.sign(opts.outTrackId, { a: b.actionId, p: b.payload }),
        });
      }
    } else if (el.type === 'choice' && !el.multiple) {
      // A single choice is one button per option.
      for (const o of el.options) {
        buttons.push({
          text: `${o.value}. ${o.text}`.slice(0, 40),
          color: 'gray',
          ...opts.signer.sign(opts.outTrackId, { a: el.actionId, p: el.payload, f: { [el.name]: o.value } }),
        });
      }
    }
  }
  // What buttons cannot express stays reachable as a text command.
  for (const a of listActionables(card)) {
    if (a.kind === 'form' || (a.kind === 'choice' && a.multiple)) {
      commandLines.push(`- ${a.label}：${commandFor(opts.hint, a)}`);
    }
  }
  const body = [cardBodyMarkdown(card), commandLines.length ? [COMMANDS_HEADING, ...commandLines].join('\n') : '']
    .filter(Boolean)
    .join('\n\n');
  const slots = splitIntoSlots(body);
  const params: Record<string, string> = {
    title: card.header.title,
    colour: card.header.colour,
    buttons: JSON.stringify(buttons),
    hasButtons: String(buttons.length > 0),
  };
  for (let i = 0; i < BODY_SLOTS; i++) params[`body${i + 1}`] = slots[i] ?? '';
  return params;
}

/** The private, per-member result line (from an AckReply toast). */
export function renderPrivateResult(toast: { kind: string; text: string }): Record<string, string> {
  const icon = { success: '✅', info: 'ℹ️', warning: '⚠️', error: '❌' }[toast.kind] ?? '';
  return { result: `${icon} ${toast.text}`.trim(), resultKind: toast.kind };
}
