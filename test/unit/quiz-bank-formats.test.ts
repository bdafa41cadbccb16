import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { createMessages } from '../../src/bot/messages.ts';
import {
  detectFormat,
  readBankFile,
  writeBankFile,
  type BankFormat,
  type ImportPlan,
} from '../../src/features/quiz/bank/file-format.ts';
import { renderProblems, type ImportProblem } from '../../src/features/quiz/bank/problems.ts';
import type { QuestionDraft } from '../../src/features/quiz/bank/types.ts';

const SAMPLE: QuestionDraft[] = [
  {
    type: 'single',
    stem: '郴州市委办公室系统“读书会”从哪一年开始举办？',
    options: [
      { key: 'A', text: '2017年' },
      { key: 'B', text: '2019年' },
      { key: 'C', text: '2021年' },
    ],
    answer: ['A'],
    explanation: '该活动从2017年开始举办，一月一主题。\n第二行解析，含有 "引号" 和, 逗号',
    tags: ['读书会', '党史'],
    difficulty: 1,
    source: 'seeds/002_f35f0752c41521bb.txt',
  },
  {
    type: 'multiple',
    stem: '“三项固定动作”是哪些？',
    options: [
      { key: 'A', text: '重温入党誓词' },
      { key: 'B', text: '集中缴纳党费' },
      { key: 'C', text: '学习政策文件' },
      { key: 'D', text: '集体过政治生日' },
      { key: 'E', text: '观看红色电影' },
    ],
    answer: ['A', 'B', 'C'],
    explanation: '',
    tags: ['组织生活'],
    difficulty: 2,
    source: '',
  },
  {
    type: 'truefalse',
    stem: '南京海事法院对未参加测试人员专门安排了补考。',
    options: [],
    answer: ['true'],
    explanation: '机关党委还对未参加测试人员专门安排补考。',
    tags: [],
    difficulty: 3,
    source: 'seeds/004_42f83af67299d66a.txt',
  },
  {
    type: 'fill',
    stem: '宁波全市累计上专题党课 ____ 万场次。',
    options: [],
    answer: ['3.34', '三点三四'],
    explanation: '',
    tags: ['主题教育'],
    difficulty: 2,
    source: 'seeds/003_63d2ed913681413c.txt',
  },
];

const t = createMessages().t;

async function read(name: string, bytes: Buffer): Promise<ImportPlan> {
  const plan = await readBankFile(name, bytes);
  if (!('drafts' in plan)) throw new Error(`file refused: ${renderProblems(plan.problems, t)}`);
  return plan;
}

function problemsOf(plan: ImportPlan | { problems: ImportProblem[] }): ImportProblem[] {
  return plan.problems;
}

async function xlsxFrom(rows: (string | number | null)[][], sheetName = 'Sheet1'): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(sheetName);
  for (const r of rows) ws.addRow(r);
  return Buffer.from((await wb.xlsx.writeBuffer()) as ArrayBuffer);
}

describe('round trips: export then import gives the same questions', () => {
  it.each<BankFormat>(['xlsx', 'csv', 'json'])('%s', async (format) => {
    const bytes = await writeBankFile(format, SAMPLE);
    expect(detectFormat(`bank.${format}`, bytes)).toBe(format);
    const plan = await read(`bank.${format}`, bytes);
    expect(plan.problems).toEqual([]);
    expect(plan.drafts.map((d) => d.draft)).toEqual(SAMPLE);
  });

  it('detects the format from the bytes when the name has no extension', async () => {
    expect(detectFormat('upload', await writeBankFile('xlsx', SAMPLE))).toBe('xlsx');
    expect(detectFormat('upload', await writeBankFile('json', SAMPLE))).toBe('json');
    expect(detectFormat('bank.xls', Buffer.from('x'))).toBeUndefined();
  });

  it('refuses an unknown format by name', async () => {
    const plan = await readBankFile('bank.docx', Buffer.from('hello'));
    expect(problemsOf(plan)).toEqual([{ key: 'bank.file.unknown_format', params: { name: 'bank.docx' } }]);
  });
});

describe('CSV', () => {
  it('reports bad rows by the line they start on, across a quoted multi-line cell', async () => {
    const csv = [
      '题型,题干,选项A,选项B,选项C,答案,解析',
      '单选,第一题,甲,乙,丙,A,"解析第一行',
      '解析第二行"',
      '单选,第二题,甲,乙,丙,E,',
      '',
      '多选,第三题,甲,乙,丙,,',
    ].join('\r\n');
    const plan = await readBankFile('bank.csv', Buffer.from(csv));
    expect(problemsOf(plan).map((p) => [p.line, p.key])).toEqual([
      [4, 'bank.row.answer_not_option'],
      [6, 'bank.row.answer_missing'],
    ]);
    expect(renderProblems(problemsOf(plan), t)).toBe(
      '第 4 行：答案 E 不在选项中（本题的选项是 A、B、C）。\n第 6 行：没有正确答案（答案为空）。',
    );
  });

  it('reads GB18030 (what Chinese Excel saves as CSV) and tab-separated files', async () => {
    const text = '题型\t题干\t答案\n填空\t党的一大在____年召开\t1921\n';
    const gb = Buffer.from(new Uint8Array([...encodeGb18030(text)]));
    const plan = await read('bank.csv', gb);
    expect(plan.drafts[0]!.draft).toMatchObject({ type: 'fill', stem: '党的一大在____年召开', answer: ['1921'] });
  });

  it('accepts English and alternative headers and ignores unknown columns', async () => {
    const csv = 'No.,Type,Question,A,B,Correct Answer,Topic,Remarks\n1,single,Q?,yes,no,B,党史,whatever\n';
    const plan = await read('bank.csv', Buffer.from(csv));
    expect(plan.drafts[0]!.draft).toMatchObject({ type: 'single', stem: 'Q?', answer: ['B'], tags: ['党史'] });
  });

  it.each([
    ['an unclosed quote', '题型,题干,答案\n填空,"没有闭合,x\n', 'bank.file.csv_invalid', 2],
    ['a header without the answer column', '题型,题干,解析\n填空,x,y\n', 'bank.file.missing_columns', 1],
    ['a header naming a column twice', '题型,题干,答案,正确答案\n填空,x,y,z\n', 'bank.file.duplicate_column', 1],
    ['only a header', '题型,题干,答案\n', 'bank.file.empty', undefined],
  ])('refuses a malformed file: %s', async (_label, csv, key, line) => {
    const problems = problemsOf(await readBankFile('bank.csv', Buffer.from(csv)));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject(line === undefined ? { key } : { key, line });
  });

  it('sees a missing option column as a gap', async () => {
    const csv = '题型,题干,选项A,选项B,选项D,答案\n单选,q,甲,乙,丁,A\n';
    const problems = problemsOf(await readBankFile('bank.csv', Buffer.from(csv)));
    expect(problems).toEqual([{ line: 2, key: 'bank.row.option_gap', params: { empty: 'C', next: 'D' } }]);
  });

  it('reports a question repeated within the file, naming the first line', async () => {
    const csv = '题型,题干,选项A,选项B,答案\n单选,同一题,甲,乙,A\n单选,其他,甲,乙,A\n单选, 同一题 ,乙,甲,B\n';
    const problems = problemsOf(await readBankFile('bank.csv', Buffer.from(csv)));
    expect(problems).toEqual([{ line: 4, key: 'bank.row.duplicate_in_file', params: { other: 2 } }]);
  });
});

describe('XLSX', () => {
  it('reports bad rows by Excel row number and skips empty rows', async () => {
    const bytes = await xlsxFrom([
      ['题型', '题干', '选项A', '选项B', '答案'],
      ['单选', '好题', '甲', '乙', 'A'],
      [null, null, null, null, null],
      ['单选', '没有正确答案', '甲', '乙', null],
      ['判断', '好的判断题', null, null, '√'],
      ['问答', '不支持的题型', null, null, 'x'],
    ]);
    const plan = await readBankFile('bank.xlsx', bytes);
    expect(problemsOf(plan).map((p) => [p.line, p.key])).toEqual([
      [4, 'bank.row.answer_missing'],
      [6, 'bank.row.type_unknown'],
    ]);
  });

  it('prefers a sheet named 题库 and reads numbers as text', async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('说明').addRow(['这里是说明']);
    const ws = wb.addWorksheet('题库');
    ws.addRow(['题型', '题干', '答案', '难度']);
    ws.addRow(['填空', '全院 ____ 人参加', 96, 3]);
    const plan = await read('bank.xlsx', Buffer.from((await wb.xlsx.writeBuffer()) as ArrayBuffer));
    expect(plan.drafts[0]!.draft).toMatchObject({ answer: ['96'], difficulty: 3 });
  });

  it.each([
    ['random bytes', Buffer.from('this is not a spreadsheet')],
    ['a truncated workbook', Buffer.from('PK\u0003\u0004garbage')],
  ])('refuses a malformed file: %s', async (_label, bytes) => {
    expect(problemsOf(await readBankFile('bank.xlsx', bytes))).toEqual([{ key: 'bank.file.xlsx_invalid' }]);
  });
});

describe('JSON', () => {
  it('reports bad questions by the line their object starts on', async () => {
    const json = `[
  { "type": "single", "stem": "好题", "options": ["甲", "乙"], "answer": "A" },
  {
    "type": "single",
    "stem": "答案不在选项中",
    "options": {"A": "甲", "B": "乙"},
    "answer": "C"
  },
  "不是对象"
]`;
    const plan = await readBankFile('bank.json', Buffer.from(json));
    expect(problemsOf(plan).map((p) => [p.line, p.key])).toEqual([
      [3, 'bank.row.answer_not_option'],
      [9, 'bank.row.not_object'],
    ]);
  });

  it('accepts Chinese keys and letter keys as well', async () => {
    const json = JSON.stringify([
      { 题型: '多选', 题干: '哪些？', A: '甲', B: '乙', C: '丙', 答案: 'AC', 标签: ['党史'] },
    ]);
    const plan = await read('bank.json', Buffer.from(json));
    expect(plan.drafts[0]!.draft).toMatchObject({ type: 'multiple', answer: ['A', 'C'], tags: ['党史'] });
  });

  it.each([
    ['a syntax error', '[\n  {"type": "fill", "stem": "x" "answer": "y"}\n]', 'bank.file.json_invalid', 2],
    ['an unterminated string', '[{"type": "fill",\n"stem": "x\n', 'bank.file.json_invalid', 2],
    ['an object without questions', '{"items": []}', 'bank.file.json_shape', 1],
    ['an empty list', '[]', 'bank.file.empty', undefined],
  ])('refuses a malformed file: %s', async (_label, json, key, line) => {
    const problems = problemsOf(await readBankFile('bank.json', Buffer.from(json)));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject(line === undefined ? { key } : { key, line });
  });
});

/** GB18030 encoding for the test: TextDecoder can decode it but Node has no encoder, so map each char by search. */
function encodeGb18030(text: string): number[] {
  const decoder = new TextDecoder('gb18030');
  const out: number[] = [];
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) {
      out.push(ch.charCodeAt(0));
      continue;
    }
    let found: number[] | undefined;
    for (let hi = 0x81; hi <= 0xfe && !found; hi++) {
      for (let lo = 0x40; lo <= 0xfe; lo++) {
        if (decoder.decode(new Uint8Array([hi, lo])) === ch) {
          found = [hi, lo];
          break;
        }
      }
    }
    if (!found) throw new Error(`cannot encode ${ch}`);
    out.push(...found);
  }
  return out;
}
