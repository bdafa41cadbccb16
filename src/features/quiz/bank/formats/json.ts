import { getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { fieldOf, normalizeHeader } from '../columns.ts';
import type { ImportProblem } from '../problems.ts';
import { fillBlanks, OPTION_KEYS, type QuestionDraft } from '../types.ts';
import type { RawQuestion } from '../validate.ts';
import type { ParsedFile } from './table.ts';

/**
 * JSON: an array of questions, or our export's envelope
 * `{format, version, questions: [...]}`. Each question is reported by the
 * line its object starts on, found with jsonc-parser's syntax tree (plain
 * JSON.parse has no positions).
 */
export const JSON_FORMAT = 'shuxiang-question-bank';

export function parseJson(bytes: Buffer): ParsedFile {
  const text = bytes.toString('utf8').replace(/^\ufeff/, '');
  const lineAt = lineIndex(text);
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || !root) {
    const first = errors[0];
    return {
      questions: [],
      problems: [
        {
          line: first ? lineAt(first.offset) : 1,
          key: 'bank.file.json_invalid',
          params: { reason: first ? describe(printParseErrorCode(first.error)) : '文件为空' },
        },
      ],
    };
  }
  let list: Node | undefined;
  if (root.type === 'array') list = root;
  else if (root.type === 'object') {
    const q = root.children?.find((p) => p.children?.[0]?.value === 'questions')?.children?.[1];
    if (q?.type === 'array') list = q;
  }
  if (!list) return { questions: [], problems: [{ line: 1, key: 'bank.file.json_shape' }] };
  const items = list.children ?? [];
  if (items.length === 0) return { questions: [], problems: [{ key: 'bank.file.empty' }] };

  const questions: RawQuestion[] = [];
  const problems: ImportProblem[] = [];
  for (const item of items) {
    const line = lineAt(item.offset);
    const value: unknown = getNodeValue(item);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ line, key: 'bank.row.not_object' });
      continue;
    }
    questions.push(fromObject(value as Record<string, unknown>, line));
  }
  return { questions, problems };
}

function fromObject(obj: Record<string, unknown>, line: number): RawQuestion {
  const raw: RawQuestion = { line, options: [] };
  const letterOptions: { key: string; text: unknown }[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const h = normalizeHeader(key);
    if (h === 'options' || h === '选项') {
      raw.options = optionsFrom(value);
      continue;
    }
    const field = fieldOf(key);
    if (!field || field === 'ignored') continue;
    if (field.startsWith('option:')) letterOptions.push({ key: field.slice(7), text: value });
    else raw[field as 'type'] = value;
  }
  if (raw.options.length === 0 && letterOptions.length > 0) {
    const last = Math.max(...letterOptions.map((o) => OPTION_KEYS.indexOf(o.key as 'A')));
    raw.options = OPTION_KEYS.slice(0, last + 1).map((k) => ({
      key: k,
      text: letterOptions.find((o) => o.key === k)?.text ?? '',
    }));
  }
  return raw;
}

/** ["text", ...], [{key, text}, ...] or {A: "text", ...}. */
function optionsFrom(value: unknown): { key: string; text: unknown }[] {
  if (Array.isArray(value)) {
    return value.map((v, i) => {
      if (typeof v === 'object' && v !== null && 'text' in v) {
        const o = v as { key?: unknown; text: unknown };
        return { key: typeof o.key === 'string' ? o.key.toUpperCase() : (OPTION_KEYS[i] ?? '?'), text: o.text };
      }
      return { key: OPTION_KEYS[i] ?? '?', text: v };
    });
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .map(([k, text]) => ({ key: k.normalize('NFKC').toUpperCase(), text }))
      .sort((a, b) => a.key.localeCompare(b.key));
  }
  return value === undefined || value === null ? [] : [{ key: 'A', text: value }];
}

function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

function describe(code: string): string {
  const map: Record<string, string> = {
    InvalidSymbol: '有无法识别的字符',
    InvalidNumberFormat: '数字格式不对',
    PropertyNameExpected: '缺少属性名（属性名要用英文双引号）',
    ValueExpected: '缺少取值',
    ColonExpected: '缺少冒号',
    CommaExpected: '缺少逗号',
    CloseBraceExpected: '缺少 }',
    CloseBracketExpected: '缺少 ]',
    EndOfFileExpected: '结尾有多余内容',
    UnexpectedEndOfString: '字符串没有闭合（缺少 "）',
    UnexpectedEndOfComment: '注释没有闭合',
    InvalidEscapeCharacter: '转义字符不对',
    InvalidUnicode: 'Unicode 转义不对',
    InvalidCharacter: '字符串中有非法字符',
  };
  return map[code] ?? code;
}

export function writeJson(drafts: QuestionDraft[], meta: { exportedAt: Date; organisation?: string }): Buffer {
  const body = {
    format: JSON_FORMAT,
    version: 1,
    exportedAt: meta.exportedAt.toISOString(),
    ...(meta.organisation ? { organisation: meta.organisation } : {}),
    questions: drafts.map((d) => ({
      type: d.type,
      stem: d.stem,
      ...(d.options.length > 0 ? { options: d.options } : {}),
      answer:
        d.type === 'truefalse'
          ? d.answer[0] === 'true'
          : d.type === 'fill'
            ? // One blank: its accepted answers, as before blanks existed; several: one list per blank.
              d.answer.length === 1
              ? fillBlanks(d.answer)[0]
              : fillBlanks(d.answer)
            : d.answer,
      explanation: d.explanation,
      tags: d.tags,
      difficulty: d.difficulty,
      source: d.source,
    })),
  };
  return Buffer.from(JSON.stringify(body, null, 2) + '\n', 'utf8');
}
