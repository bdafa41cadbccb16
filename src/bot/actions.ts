import type { z } from 'zod';
import type { AckReply } from '../platforms/types.ts';
import type { ActionContext } from './context.ts';

/**
 * Card buttons are declared by a dotted id (`quiz.answer`) and a payload
 * schema that carries its own version (`{v: 1, ...}`), so cards already in a
 * chat keep working, or fail politely, after the payload shape changes.
 * The payload is never trusted for *who* clicked: that is the event sender.
 */
export interface ActionSpec<S extends z.ZodType = z.ZodType, F extends z.ZodType = z.ZodType> {
  id: string;
  payload: S;
  /**
   * The schema of the form values a choice or form submits (`ctx.event.formValues`).
   * What it outputs is the handler's third argument; values it refuses get a
   * polite toast and reach no handler. Without it the third argument is undefined.
   */
  form?: F;
  /** Who may click; members by default. */
  role?: 'member' | 'secretary';
  /**
   * The handler writes the event's dedupe row itself, in the same commit as its
   * effect (ctx.event.platform/eventKey), instead of the dispatcher writing it
   * first in a commit of its own. For the hottest click (a quiz answer) that is
   * one commit less per batch, and the key and the answer cannot part.
   */
  recordsEvent?: boolean;
  run(ctx: ActionContext, payload: z.output<S>, form: z.output<F>): Promise<AckReply | void>;
}

export function defineAction<S extends z.ZodType, F extends z.ZodType = z.ZodUndefined>(
  spec: ActionSpec<S, F>,
): ActionSpec {
  return spec as unknown as ActionSpec;
}

export function createActionRegistry(specs: ActionSpec[]): Map<string, ActionSpec> {
  const map = new Map<string, ActionSpec>();
  for (const s of specs) {
    if (map.has(s.id)) throw new Error(`action "${s.id}" is declared twice`);
    map.set(s.id, s);
  }
  return map;
}
