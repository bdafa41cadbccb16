import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMessages } from '../../src/bot/messages.ts';
import { readBankFile } from '../../src/features/quiz/bank/file-format.ts';
import { renderProblems } from '../../src/features/quiz/bank/problems.ts';
import { readStarterBank as readFrom, starterBankPath } from '../../src/features/quiz/bank/starter-bank.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const readStarterBank = () => readFrom(ROOT);

/**
 * The starter bank shipped in data-seed/ is data a secretary may import into
 * a real organisation, so it is held to the importer's rules and more.
 */
describe('the starter bank', () => {
  const dataSeed = path.dirname(starterBankPath(ROOT));

  it('passes every import check, has at least 80 questions, and covers every type and seed', async () => {
    const plan = await readBankFile('starter-bank.json', readStarterBank());
    const problems = 'drafts' in plan ? plan.problems : plan.problems;
    expect(renderProblems(problems, createMessages().t)).toBe('');
    if (!('drafts' in plan)) return;
    const drafts = plan.drafts.map((d) => d.draft);
    expect(drafts.length).toBeGreaterThanOrEqual(80);
    expect(new Set(drafts.map((d) => d.type))).toEqual(new Set(['single', 'multiple', 'truefalse', 'fill']));
    expect(new Set(drafts.map((d) => d.source)).size).toBe(5);
  });

  it('has every answer among its options and an explanation for every question', async () => {
    const plan = await readBankFile('starter-bank.json', readStarterBank());
    if (!('drafts' in plan)) throw new Error('starter bank refused');
    for (const { draft } of plan.drafts) {
      const keys = draft.options.map((o) => o.key);
      if (draft.type === 'single' || draft.type === 'multiple') {
        expect(draft.answer.length, draft.stem).toBeGreaterThanOrEqual(draft.type === 'single' ? 1 : 2);
        for (const a of draft.answer) expect(keys, draft.stem).toContain(a);
      } else if (draft.type === 'truefalse') {
        expect(['true', 'false']).toContain(draft.answer[0]);
      } else {
        expect(draft.answer.length, draft.stem).toBeGreaterThan(0);
      }
      expect(draft.explanation.length, draft.stem).toBeGreaterThan(0);
      expect(draft.tags.length, draft.stem).toBeGreaterThan(0);
    }
  });

  /** The file under data-seed/ each source names (the bank's `documents`, which the importer ignores). */
  const documents = z
    .object({ documents: z.record(z.string(), z.string()) })
    .parse(JSON.parse(readStarterBank().toString('utf8'))).documents;
  const seedFile = (source: string) => path.join(dataSeed, documents[source] ?? `missing: ${source}`);

  it('names every source as a reader would, each an existing seed document', async () => {
    const plan = await readBankFile('starter-bank.json', readStarterBank());
    if (!('drafts' in plan)) throw new Error('starter bank refused');
    for (const { draft } of plan.drafts) {
      // The 来源 column of an export is read by secretaries: no file paths.
      expect(draft.source, draft.stem).not.toMatch(/seeds|\.txt|\//);
      expect(existsSync(seedFile(draft.source)), draft.source).toBe(true);
    }
  });

  it('has explanations for members, without editing notes', async () => {
    const plan = await readBankFile('starter-bank.json', readStarterBank());
    if (!('drafts' in plan)) throw new Error('starter bank refused');
    for (const { draft } of plan.drafts) {
      expect(draft.explanation, draft.stem).not.toMatch(/^原文|文中|出自.*报道|seeds|出题|本题/);
    }
  });

  it('quotes numbers that appear in its source document (a check on transcription slips)', async () => {
    // Numbers read the same in the simplified and traditional seed texts, so a
    // correct answer's numbers must appear in the document it cites.
    const plan = await readBankFile('starter-bank.json', readStarterBank());
    if (!('drafts' in plan)) throw new Error('starter bank refused');
    let checked = 0;
    for (const { draft } of plan.drafts) {
      const seed = readFileSync(seedFile(draft.source), 'utf8');
      const correct =
        draft.type === 'fill'
          ? [draft.answer[0]!]
          : draft.options.filter((o) => draft.answer.includes(o.key)).map((o) => o.text);
      for (const number of correct.join(' ').match(/\d+(?:\.\d+)?/g) ?? []) {
        expect(seed, `${draft.stem} → ${number}`).toContain(number);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('spreads correct options over the letters (not always A)', async () => {
    const plan = await readBankFile('starter-bank.json', readStarterBank());
    if (!('drafts' in plan)) throw new Error('starter bank refused');
    const singles = plan.drafts.filter((d) => d.draft.type === 'single').map((d) => d.draft.answer[0]);
    for (const letter of ['A', 'B', 'C', 'D']) {
      expect(singles.filter((a) => a === letter).length).toBeGreaterThan(singles.length / 8);
    }
  });
});
