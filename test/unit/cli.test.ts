import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.ts';
import { openDatabase } from '../../src/lib/db.ts';
import { createMigrator } from '../../src/lib/migrator.ts';

const run = promisify(execFile);

describe('the CLI (npm run cli -- questions ...) against a temporary SQLite database', () => {
  let dir: string;
  let url: string;
  let out: string[];
  let err: string[];

  const cli = (...argv: string[]) =>
    runCli(argv, {
      env: { DATABASE_URL: url, LOG_LEVEL: 'silent' },
      cwd: dir,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });

  async function addOrgs(...ids: string[]) {
    const db = await openDatabase(url);
    await createMigrator(db).migrate();
    for (const id of ids) await db.prisma.organisation.create({ data: { id, name: `支部 ${id}` } });
    await db.close();
  }

  async function xlsx(name: string, rows: (string | null)[][]) {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('题库');
    for (const r of rows) ws.addRow(r);
    await wb.xlsx.writeFile(path.join(dir, name));
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'shuxiang-cli-'));
    url = `file:${path.join(dir, 'cli.db')}`;
    out = [];
    err = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('imports an XLSX bank into the only organisation, reports stats, and exports it again', async () => {
    await addOrgs('org-a');
    await xlsx('bank.xlsx', [
      ['题型', '题干', '选项A', '选项B', '答案', '标签'],
      ['单选', '党的一大在哪一年召开？', '1921', '1927', 'A', '党史'],
      ['填空', '全院 ____ 人参加测试', null, null, '96', '以考促学'],
    ]);
    expect(await cli('questions', 'import', 'bank.xlsx')).toBe(0);
    expect(out.join('\n')).toContain('Imported 2 question(s) from bank.xlsx into 支部 org-a (org-a).');

    out = [];
    expect(await cli('questions', 'stats')).toBe(0);
    expect(out.join('\n')).toMatch(/2 active question\(s\)[\s\S]*党史\t1[\s\S]*以考促学\t1/);

    out = [];
    expect(await cli('questions', 'export', 'out.csv')).toBe(0);
    const csv = readFileSync(path.join(dir, 'out.csv'), 'utf8');
    expect(csv).toContain('党的一大在哪一年召开？');
    expect(csv.split('\r\n')[0]).toBe('\ufeff题型,题干,选项A,选项B,选项C,选项D,答案,解析,标签,难度,来源');
  });

  it('reports every bad row with its line, imports nothing and exits 1', async () => {
    await addOrgs('org-a');
    await xlsx('bad.xlsx', [
      ['题型', '题干', '选项A', '选项B', '答案'],
      ['单选', '好题', '甲', '乙', 'A'],
      ['单选', '没有正确选项', '甲', '乙', null],
      ['多选', '答案不在选项中', '甲', '乙', 'AC'],
    ]);
    expect(await cli('questions', 'import', 'bad.xlsx')).toBe(1);
    expect(err.join('\n')).toContain('2 problem(s); nothing was imported.');
    expect(err.join('\n')).toContain('第 3 行：没有正确答案（答案为空）。');
    expect(err.join('\n')).toContain('第 4 行：答案 C 不在选项中（本题的选项是 A、B）。');
    out = [];
    await cli('questions', 'stats');
    expect(out[0]).toContain(': 0 active question(s)');
  });

  it('needs --org when there are several organisations, and imports the starter bank into the one named', async () => {
    await addOrgs('org-a', 'org-b');
    expect(await cli('questions', 'starter')).toBe(1);
    expect(err.join('\n')).toContain('choose one with --org');
    expect(err.join('\n')).toContain('org-b');
    expect(await cli('questions', 'starter', '--org', 'org-b')).toBe(0);
    expect(out.join('\n')).toMatch(/Imported \d+ question\(s\) from data-seed\/starter-bank.json into 支部 org-b/);
    expect(await cli('questions', 'import', 'nope.json', '--org', 'org-x')).toBe(1);
    expect(err.join('\n')).toContain('No organisation with id org-x');
  });

  it('refuses duplicates of the bank unless --skip-duplicates is given', async () => {
    await addOrgs('org-a');
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify([{ type: '判断', stem: '这是对的', answer: '对' }]));
    expect(await cli('questions', 'import', 'a.json')).toBe(0);
    expect(await cli('questions', 'import', 'a.json')).toBe(1);
    expect(err.join('\n')).toContain('第 1 行：题库里已有这道题：「这是对的」。');
    expect(err.join('\n')).toContain('--skip-duplicates');
    out = [];
    expect(await cli('questions', 'import', 'a.json', '--skip-duplicates')).toBe(0);
    expect(out.join('\n')).toContain('Skipped 1 already in the bank (line 1).');
  });

  it('answers unknown commands and a missing file with usage and an error code', async () => {
    expect(await cli('questions', 'frobnicate')).toBe(64);
    expect(err.join('\n')).toContain('Usage:');
    await addOrgs('org-a');
    expect(await cli('questions', 'import', 'missing.xlsx')).toBe(1);
    expect(err.join('\n')).toContain('Cannot read');
  });

  it('runs as `npm run cli` with the app database from DATABASE_URL', async () => {
    await addOrgs('org-a');
    const { stdout } = await run('npm', ['run', '-s', 'cli', '--', 'questions', 'starter'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { ...process.env, DATABASE_URL: url, INIT_CWD: dir },
    });
    expect(stdout).toMatch(/Imported \d{2,} question\(s\)/);
    const db = await openDatabase(url);
    expect(await db.prisma.question.count({ where: { orgId: 'org-a' } })).toBeGreaterThanOrEqual(80);
    await db.close();
  });

  it('imports a year of holidays (holiday-cn JSON or the notice), shows it with its source, and refuses bad input', async () => {
    writeFileSync(
      path.join(dir, '2027.json'),
      JSON.stringify({
        year: 2027,
        days: [
          { name: '元旦', date: '2027-01-01', isOffDay: true },
          { name: '春节', date: '2027-02-14', isOffDay: false },
        ],
      }),
    );
    expect(await cli('holidays', 'import', '2027.json')).toBe(0);
    expect(out.join('\n')).toContain('Imported 2027: 1 day(s) off, 1 extra working day(s)');
    out = [];
    expect(await cli('holidays', 'show', '2027')).toBe(0);
    expect(out[0]).toMatch(/^2027: imported by cli at .* \(holiday-cn, revision 1\)$/);
    expect(out).toContain('  2027-02-14\twork\t春节');

    writeFileSync(
      path.join(dir, 'bad.json'),
      JSON.stringify({ year: 2028, days: [{ name: '元旦', date: '2028-13-01', isOffDay: true }] }),
    );
    expect(await cli('holidays', 'import', 'bad.json')).toBe(1);
    expect(err.join('\n')).toContain('bad.json: 第1条（元旦 2028-13-01）：「2028-13-01」不是有效的日期');
    err = [];
    expect(await cli('holidays', 'import', '2027.json', '--year', '2026')).toBe(1);
    expect(err.join('\n')).toContain('你要导入的是 2026 年，但这份通知是 2027 年的');

    out = [];
    expect(await cli('holidays', 'remove', '2027')).toBe(0);
    expect(await cli('holidays', 'log')).toBe(0);
    expect(out.filter((l) => /\t(import|remove)\t2027\tcli\t/.test(l))).toHaveLength(2);
  });
});
