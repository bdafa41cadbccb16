import { parseArgs } from 'node:util';
import { UserError } from './errors.ts';

/**
 * Splits a chat message into tokens. Understands ASCII quotes and the Chinese
 * quotes people actually type (“” ‘’ 「」 『』), full-width spaces, and drops
 * control characters. Written by hand because no maintained tokenizer knows
 * Chinese quotes, and shell-style parsers interpret $, | and > (decisions.md).
 */
const QUOTES: Record<string, string> = {
  '"': '"',
  "'": "'",
  '“': '”',
  '‘': '’',
  '「': '」',
  '『': '』',
};

export const MAX_COMMAND_LENGTH = 4000;

export function sanitize(text: string): string {
  return (
    text
      // C0/C1 controls except tab and newline, and zero-width/bidi marks.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
      .slice(0, MAX_COMMAND_LENGTH)
  );
}

export function tokenize(input: string): string[] {
  const text = sanitize(input);
  const tokens: string[] = [];
  let current = '';
  let inToken = false;
  let closing: string | null = null;
  for (const ch of text) {
    if (closing !== null) {
      if (ch === closing) closing = null;
      else current += ch;
      continue;
    }
    if (/\s/u.test(ch)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
      continue;
    }
    const close = QUOTES[ch];
    if (close !== undefined) {
      closing = close;
      inToken = true;
      continue;
    }
    current += ch;
    inToken = true;
  }
  if (closing !== null) throw new UserError('error.unbalanced_quote');
  if (inToken) tokens.push(current);
  return tokens;
}

/** Half-width, lower-case form of a command name or option, so `ＨＥＬＰ` finds `help`. */
export function normalizeName(token: string): string {
  return token.normalize('NFKC').toLowerCase();
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | boolean | undefined>;
}

/** Options (`--tag 党史`, `-n 5`, `--late`) through node's own parseArgs. */
export function parseTokens(tokens: string[], options: Record<string, OptionSpec>): ParsedArgs {
  const normalized = tokens.map((t) => (/^[-－—]{1,2}/.test(t) ? normalizeDashes(t) : t));
  try {
    const { values, positionals } = parseArgs({
      args: normalized,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { positionals, options: values as ParsedArgs['options'] };
  } catch (err) {
    throw new UsageProblem(err instanceof Error ? describeParseError(err) : String(err));
  }
}

function normalizeDashes(token: string): string {
  // Chinese IMEs turn "--" into "——" or full-width dashes.
  return token.replace(/^(?:——|－－|—|－)/, (m) => (m.length === 2 || m === '——' ? '--' : '-')).normalize('NFKC');
}

function describeParseError(err: Error): string {
  const m = /Unknown option '([^']+)'/.exec(err.message);
  if (m) return `不认识的选项 ${m[1]}`;
  const v = /Option '([^']+)' argument missing/.exec(err.message);
  if (v) return `选项 ${v[1]} 缺少取值`;
  return '选项格式不对';
}

/** A usage problem the dispatcher turns into the command's usage line. */
export class UsageProblem extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'UsageProblem';
  }
}
