import { OPTION_KEYS } from './types.ts';

/**
 * Spreadsheet (CSV/XLSX) columns. The export writes the Chinese headers in
 * EXPORT_HEADERS; the import also accepts the usual alternatives people use
 * in their own templates (English names, 选项A/A选项/A, 正确答案...).
 */
export type Field =
  'type' | 'stem' | 'answer' | 'explanation' | 'tags' | 'difficulty' | 'source' | 'ignored' | `option:${string}`;

export const REQUIRED_FIELDS = ['type', 'stem', 'answer'] as const;

export const FIELD_LABELS: Record<string, string> = {
  type: '题型',
  stem: '题干',
  answer: '答案',
  explanation: '解析',
  tags: '标签',
  difficulty: '难度',
  source: '来源',
};

const ALIASES: Record<string, string[]> = {
  type: ['题型', '类型', '题目类型', '试题类型', 'type', 'questiontype', 'kind'],
  stem: ['题干', '题目', '问题', '试题', '题目内容', '试题内容', 'stem', 'question', 'content'],
  answer: ['答案', '正确答案', '标准答案', '参考答案', 'answer', 'answers', 'correct', 'correctanswer'],
  explanation: ['解析', '答案解析', '试题解析', '题目解析', '说明', 'explanation', 'analysis', 'notes'],
  tags: ['标签', '分类', '主题', '题目分类', '知识点', 'tags', 'tag', 'topic', 'category'],
  difficulty: ['难度', '难易度', '难易程度', 'difficulty', 'level'],
  source: ['来源', '出处', '题目来源', 'source'],
  ignored: ['序号', '编号', '题号', 'id', 'no', 'number', '#'],
};

export function normalizeHeader(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_\-:：()（）[\]【】.]+/g, '');
}

const LOOKUP = new Map<string, Field>();
for (const [field, names] of Object.entries(ALIASES)) {
  for (const n of names) LOOKUP.set(normalizeHeader(n), field as Field);
}
for (const key of OPTION_KEYS) {
  const l = key.toLowerCase();
  for (const n of [l, `选项${l}`, `${l}选项`, `option${l}`, `选择${l}`]) LOOKUP.set(n, `option:${key}`);
}

/** The field a header names, or undefined for a column we do not know (ignored). */
export function fieldOf(header: string): Field | undefined {
  const h = normalizeHeader(header);
  return h === '' ? undefined : LOOKUP.get(h);
}

export function exportHeaders(optionCount: number): { field: Field; header: string }[] {
  return [
    { field: 'type', header: '题型' },
    { field: 'stem', header: '题干' },
    ...OPTION_KEYS.slice(0, optionCount).map((k) => ({ field: `option:${k}` as Field, header: `选项${k}` })),
    { field: 'answer', header: '答案' },
    { field: 'explanation', header: '解析' },
    { field: 'tags', header: '标签' },
    { field: 'difficulty', header: '难度' },
    { field: 'source', header: '来源' },
  ];
}
