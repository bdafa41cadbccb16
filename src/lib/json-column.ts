import type { z } from 'zod';

/**
 * JSON text columns (round settings, question options, outbox bodies, ...)
 * read back through a zod schema instead of a cast: a corrupt or outdated
 * value fails here, naming the column, rather than somewhere downstream as an
 * undefined field.
 */
export class JsonColumnError extends Error {
  constructor(
    readonly column: string,
    cause: unknown,
  ) {
    super(`corrupt JSON in ${column}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'JsonColumnError';
  }
}

/** Parses `text` as JSON and validates it with `schema`; throws JsonColumnError naming `column`. */
export function parseJsonColumn<S extends z.ZodType>(schema: S, text: string, column: string): z.output<S> {
  const parsed = schema.safeParse(parseJsonValue(text, column));
  if (!parsed.success) throw new JsonColumnError(column, parsed.error);
  return parsed.data;
}

export interface JsonColumn<S extends z.ZodType> {
  /** Reads the column's text; throws JsonColumnError on corruption. */
  parse(text: string): z.output<S>;
  /** Like parse, for a nullable column: null stays null. */
  parseNullable(text: string | null): z.output<S> | null;
  /** The text to store; typed on the schema's input so writers and readers agree. */
  stringify(value: z.input<S>): string;
}

/** A codec for one JSON column: `column` names it in errors ("QuizRound.settings"). */
export function jsonColumn<S extends z.ZodType>(schema: S, column: string): JsonColumn<S> {
  const parse = (text: string) => parseJsonColumn(schema, text, column);
  return {
    parse,
    parseNullable: (text) => (text === null ? null : parse(text)),
    stringify: (value) => JSON.stringify(value),
  };
}

/** A JSON column whose shape its consumer checks (scheduler payloads go to each kind's handler). */
export function parseJsonValue(text: string, column: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new JsonColumnError(column, err);
  }
}
