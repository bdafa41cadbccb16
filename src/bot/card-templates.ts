import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import jsone from 'json-e';
import { memberText, stripMarks } from '../platforms/text.ts';
import { cardElementSchema, cardSchema, type Card } from '../platforms/types.ts';

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

/**
 * The template is the markup; its context is text. Every string in the
 * context is marked as member text (platforms/text.ts) before json-e
 * substitutes it, so a name or a stem spliced into `**${x.name}**` is shown
 * literally by every renderer, and a template cannot forget to escape.
 * Card elements passed in whole (answer controls built by a feature) are
 * taken as built: features compose those like any card.
 */
const ELEMENT_TYPES = new Set<string>(cardElementSchema.options.map((o) => o.shape.type.value));

function markContext(value: unknown): unknown {
  if (typeof value === 'string') return memberText(value);
  if (Array.isArray(value)) return value.map(markContext);
  if (value && typeof value === 'object') {
    const type = (value as { type?: unknown }).type;
    if (typeof type === 'string' && ELEMENT_TYPES.has(type)) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markContext(v)]));
  }
  return value;
}

/**
 * Marks stay only where a renderer reads markup (markdown and note texts);
 * everywhere else (titles, colours, fields, tables) they are dropped, and
 * renderers treat those strings as plain text.
 */
function settleMarks(value: unknown, key?: string, parentType?: string): unknown {
  if (typeof value === 'string') {
    return key === 'text' && (parentType === 'markdown' || parentType === 'note') ? value : stripMarks(value);
  }
  if (Array.isArray(value)) return value.map((v) => settleMarks(v));
  if (value && typeof value === 'object') {
    const rawType = (value as { type?: unknown }).type;
    const type = typeof rawType === 'string' ? stripMarks(rawType) : undefined;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, settleMarks(v, k, type)]));
  }
  return value;
}

function renderWith(file: TemplateFile, context: Record<string, unknown>): Card {
  return cardSchema.parse(settleMarks(jsone(file.template as object, markContext(context) as Record<string, unknown>)));
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
