/**
 * How deep and how big a parsed JSON value from a platform may be. JSON.parse
 * copes with any nesting, but everything after it that recurses (zod,
 * JSON.stringify, the seal's canonical JSON) throws a RangeError on a value
 * nested some thousands deep — a 500 from one signed request. Adapters check
 * payloads and card values against these limits first and answer 4xx.
 */
export interface JsonLimits {
  /** Nesting of objects and arrays: `{}` is depth 1, `{"a":[1]}` depth 2. */
  depth: number;
  /** Objects, arrays and primitives counted together. */
  nodes: number;
}

/** A whole platform request body (an envelope, a callback): generous, far from any recursion limit. */
export const BODY_LIMITS: JsonLimits = { depth: 32, nodes: 20_000 };
/** What a card button carries back (action payload) or a form submits. */
export const CARD_VALUE_LIMITS: JsonLimits = { depth: 8, nodes: 500 };

/**
 * Why `value` is outside `limits` ('too deep' / 'too large'), or undefined
 * when it is within them. Iterative, and stops at the first excess, so a
 * hostile value costs no more than the limits.
 */
export function exceedsJsonLimits(value: unknown, limits: JsonLimits): 'too deep' | 'too large' | undefined {
  const stack: { v: unknown; d: number }[] = [{ v: value, d: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { v, d } = stack.pop()!;
    if (++nodes > limits.nodes) return 'too large';
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > limits.depth) return 'too deep';
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    // A flat object with more members than the node budget is too large without walking it.
    if (nodes + children.length > limits.nodes) return 'too large';
    for (const c of children) stack.push({ v: c, d: d + 1 });
  }
  return undefined;
}

export const withinJsonLimits = (value: unknown, limits: JsonLimits): boolean =>
  exceedsJsonLimits(value, limits) === undefined;
