/**
 * Speed-weighted points for live contests, Kahoot's published rule:
 * points = round((1 − (t / T) / 2) × max), full points within the first
 * half second, never below half for a correct answer, 0 when wrong.
 */
export const CONTEST_MAX_POINTS = 1000;

export function contestPoints(correct: boolean, elapsedMs: number, limitMs: number, max = CONTEST_MAX_POINTS): number {
  if (!correct) return 0;
  if (elapsedMs <= 500) return max;
  const ratio = Math.min(1, Math.max(0, elapsedMs / limitMs));
  return Math.round((1 - ratio / 2) * max);
}

/** Daily practice and tests are about knowing, not speed: a flat amount per correct answer. */
export const PRACTICE_POINTS = 100;
