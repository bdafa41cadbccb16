import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import jsone from 'json-e';
import { cardSchema, type Card } from '../platforms/types.ts';

/**
 * Card templates live in cards/*.json as data, so an organisation can change
 * wording and layout without code. Each file holds a json-e `template` that
 * produces a neutral card, and an `example` context; start-up renders every
 * example and validates the result, so a broken template stops the bot with
 * a clear message instead of failing in front of a user.
 */
export interface CardTemplates {
  render(name: string, context: Record<string, unknown>): Card;
  names(): string[];
}

interface TemplateFile {
  description?: string;
  example: Record<string, unknown>;
  template: unknown;
}

export class CardTemplateError extends Error {
  constructor(readonly problems: string[]) {
    super(`Card templates are invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CardTemplateError';
  }
}

function renderWith(file: TemplateFile, context: Record<string, unknown>): Card {
  return cardSchema.parse(jsone(file.template as object, context));
}

export function loadCardTemplates(dir: string): CardTemplates {
  const templates = new Map<string, TemplateFile>();
  const problems: string[] = [];
  const files = readdirSync(dir, { withFileTypes: true }).filter((f) => f.isFile() && f.name.endsWith('.json'));
  for (const f of files) {
    const name = f.name.replace(/\.json$/, '');
    const where = path.join(path.basename(dir), f.name);
    try {
      const parsed = JSON.parse(readFileSync(path.join(dir, f.name), 'utf8')) as Partial<TemplateFile>;
      if (typeof parsed !== 'object' || parsed === null || !('template' in parsed) || !parsed.example) {
        problems.push(`${where}: needs "template" and "example"`);
        continue;
      }
      const file = parsed as TemplateFile;
      renderWith(file, file.example);
      templates.set(name, file);
    } catch (err) {
      problems.push(`${where}: ${err instanceof Error ? err.message.split('\n').slice(0, 6).join(' ') : String(err)}`);
    }
  }
  if (problems.length > 0) throw new CardTemplateError(problems);
  return {
    render(name, context) {
      const file = templates.get(name);
      if (!file) throw new Error(`unknown card template ${name}`);
      return renderWith(file, context);
    },
    names: () => [...templates.keys()].sort(),
  };
}
