import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readBankFile, writeBankFile } from './file-format.ts';

/**
 * The fill-in template secretaries download with `题库 模板`: the export's
 * columns with one example of each question type (data-seed/bank-template.json),
 * written by the exporter so the template imports as it is.
 */
export const TEMPLATE_NAME = 'bank-template.json';

export async function bankTemplateFiles(root: string): Promise<{ xlsx: Buffer; csv: Buffer }> {
  const plan = await readBankFile(TEMPLATE_NAME, await readFile(path.join(root, 'data-seed', TEMPLATE_NAME)));
  if (!('drafts' in plan) || plan.problems.length > 0) {
    throw new Error(`the shipped bank template is invalid: ${JSON.stringify(plan.problems.slice(0, 3))}`);
  }
  const drafts = plan.drafts.map((d) => d.draft);
  const [xlsx, csv] = await Promise.all([writeBankFile('xlsx', drafts), writeBankFile('csv', drafts)]);
  return { xlsx, csv };
}
