import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ImportResult, QuestionBank } from './repository.ts';

/**
 * The starter bank shipped with Shuxiang: questions written from the seed
 * documents (each question's source names its document). It lives in
 * data-seed/ as an ordinary JSON bank file, so it is imported by the same
 * code and checks as any secretary's file.
 */
export const STARTER_BANK_NAME = 'starter-bank.json';

/**
 * Where the starter bank is, from the repository root. The root comes from
 * the composition root (main.ts, cli.ts), because this module's own URL is
 * that of the bundle when the app runs from dist/.
 */
export function starterBankPath(root: string): string {
  return path.join(root, 'data-seed', STARTER_BANK_NAME);
}

export function readStarterBank(root: string): Buffer {
  return readFileSync(starterBankPath(root));
}

/** The starter bank's `documents`: each source name and the seed file it stands for. */
const documentsSchema = z.object({ documents: z.record(z.string(), z.string()).default({}) });

/**
 * Imports the starter bank into an organisation, leaving out questions it
 * already has, so it is safe on every start and after a partial import.
 * Questions imported when sources were seed file paths get the names.
 */
export async function importStarterBank(bank: QuestionBank, orgId: string, root: string): Promise<ImportResult> {
  const bytes = readStarterBank(root);
  const { documents } = documentsSchema.parse(JSON.parse(bytes.toString('utf8')));
  for (const [name, file] of Object.entries(documents)) await bank.renameSource(orgId, file, name);
  return bank.importFile(orgId, { name: STARTER_BANK_NAME, bytes }, { skipExisting: true });
}

/** For start-up: a broken shipped bank is a bug, so it stops start-up loudly. */
export async function seedStarterBank(bank: QuestionBank, orgId: string, root: string): Promise<number> {
  const result = await importStarterBank(bank, orgId, root);
  if (!result.ok) {
    throw new Error(
      `the starter bank ${starterBankPath(root)} is invalid: ${JSON.stringify(result.problems.slice(0, 5))}`,
    );
  }
  return result.imported;
}
