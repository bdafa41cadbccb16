/**
 * Member text inside the bot's markup.
 *
 * A card's `markdown` and `note` texts are markup the bot wrote (templates,
 * the catalogue) with text from members and files (names, stems, notes)
 * spliced in. Card templates mark each value they substitute as member text
 * by wrapping it in two private-use characters (`memberText`); the marks
 * travel with the card through the outbox, and every renderer escapes the
 * marked spans for its format and drops the marks. So a display name like
 * `<at id=all></at>**[点我](https://evil.example/x)**` shows literally on
 * every platform, whatever template it lands in.
 *
 * Everything else in a card (titles, field labels and values, buttons,
 * options, table cells, chart labels) is plain text: renderers escape it
 * whole (`plainText`). Unmarked markup still goes through each renderer's
 * baseline, which never lets through a mention tag, HTML, an image, a link
 * or a heading — the bot's own markup uses none of them in a text block.
 */

/** Opens a span of member text (U+E000, private use: never typed, never shown). */
export const MEMBER_OPEN = '\uE000';
/** Closes a span of member text (U+E001). */
export const MEMBER_CLOSE = '\uE001';
const MARKS = /[\uE000\uE001]/g;

/** Longest member span a card shows; the rest is cut with an ellipsis (a 10,000-character name must not cost the card). */
export const MAX_MEMBER_SPAN = 2000;
/** Longest plain text (a title, a button, a table cell) a card shows. */
export const MAX_PLAIN_TEXT = 1000;

/**
 * Bidirectional controls (embeddings, overrides, isolates): an RTL override
 * in a name reverses what follows it on the card, so they are removed from
 * member and plain text. U+200E/U+200F (marks, not overrides) are harmless.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

/** `s` without bidi overrides (the bot's own markup goes through this too). */
export function withoutBidi(s: string): string {
  return s.replace(BIDI_CONTROLS, '');
}

/** `s` marked as member text (any marks inside are dropped first, so a member cannot close the span). */
export function memberText(s: string): string {
  const clean = s.replace(MARKS, '');
  return clean === '' ? '' : `${MEMBER_OPEN}${clean}${MEMBER_CLOSE}`;
}

/** `s` without member-text marks. */
export function stripMarks(s: string): string {
  return s.replace(MARKS, '');
}

export interface TextSpan {
  text: string;
  /** True for text a member or a file supplied; false for the bot's markup. */
  member: boolean;
}

/** Splits marked text into the bot's markup and member spans. An unclosed span runs to the end. */
export function textSpans(s: string): TextSpan[] {
  const out: TextSpan[] = [];
  let member = false;
  let current = '';
  for (const ch of s) {
    if (ch === MEMBER_OPEN || ch === MEMBER_CLOSE) {
      const next = ch === MEMBER_OPEN;
      if (next !== member) {
        if (current) out.push({ text: current, member });
        current = '';
        member = next;
      }
      continue;
    }
    current += ch;
  }
  if (current) out.push({ text: current, member });
  return out;
}

function cut(s: string, max: number): string {
  const chars = [...s];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : s;
}

/** Member text as it may be shown: no bidi overrides, at most MAX_MEMBER_SPAN characters. */
export function cleanMemberText(s: string, max = MAX_MEMBER_SPAN): string {
  return cut(s.replace(BIDI_CONTROLS, ''), max);
}

/** A plain-text field as it may be shown: no marks, no bidi overrides, at most `max` characters. */
export function plainText(s: string, max = MAX_PLAIN_TEXT): string {
  return cleanMemberText(stripMarks(s), max);
}

/**
 * Member text inside a code span (a template's `` `${x}` ``): nothing is
 * parsed there, and character references would show as typed, so only what
 * could end the span (a backtick, a line break) or open a tag is replaced.
 */
export function codeSpanText(s: string): string {
  return s.replace(/[`\r\n]/g, ' ').replace(/</g, '\uFF1C');
}

/**
 * Renders marked text: member spans through `member` (the platform's full
 * escape, after cleanMemberText), or `codeSpanText` when the bot's markup
 * put them inside a code span; the bot's markup through `markup` (the
 * platform's baseline). Marks never reach the platform.
 */
export function renderMarked(
  s: string,
  escape: { member: (text: string) => string; markup: (text: string) => string },
): string {
  let inCode = false;
  return textSpans(s)
    .map((span) => {
      if (span.member)
        return inCode ? codeSpanText(cleanMemberText(span.text)) : escape.member(cleanMemberText(span.text));
      if ((span.text.match(/`/g)?.length ?? 0) % 2 === 1) inCode = !inCode;
      return escape.markup(span.text);
    })
    .join('');
}

/** Every string of a JSON-like value with marks removed (for consumers that show cards as data). */
export function stripMarksDeep<T>(value: T): T {
  if (typeof value === 'string') return stripMarks(value) as T;
  if (Array.isArray(value)) return value.map(stripMarksDeep) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripMarksDeep(v)])) as T;
  }
  return value;
}

/**
 * The bot's own markup in a markdown block (Feishu lark_md, DingTalk
 * markdown): emphasis, code and lists stay, but never a tag (HTML, a
 * mention of everyone), an image, a link or a heading. The bot writes none
 * of them in a text block, so any there came from text spliced in without a
 * member mark; HTML character references show them as typed on both.
 */
export function safeMarkup(s: string): string {
  return withoutBidi(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/!\[/g, '&#33;[')
    .replace(/\]\(/g, '&#93;(')
    .replace(/^(\s*)#/gm, '$1&#35;');
}
