import type { MessageKey, MessageParams } from '../../../bot/messages.ts';

/**
 * Something wrong with an import file, with the line it is on (the
 * spreadsheet row, or the text line of a CSV/JSON file) when it has one.
 * `key` is a message-catalogue key, so the chat and the CLI say the same.
 */
export interface ImportProblem {
  line?: number;
  key: MessageKey;
  params?: MessageParams;
}

export function sortProblems(list: ImportProblem[]): ImportProblem[] {
  return [...list].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/** Renders problems one per line: "第 3 行：答案 E 不在选项中（本题的选项是 A–D）". */
export function renderProblems(
  problems: ImportProblem[],
  t: (key: MessageKey, params?: MessageParams) => string,
  max = Infinity,
): string {
  const sorted = sortProblems(problems);
  const lines = sorted.slice(0, max).map((p) => {
    const text = t(p.key, p.params);
    return p.line === undefined ? text : t('bank.problem.line', { line: p.line, problem: text });
  });
  if (sorted.length > max) lines.push(t('bank.problem.more', { count: sorted.length - max }));
  return lines.join('\n');
}
