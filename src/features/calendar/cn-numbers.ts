/** Chinese numerals as people type them in dates and times ("十五号", "两点", "二十日"). */
const CN_DIGITS: Record<string, number> = {
  零: 0,
  〇: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};

/** A regular-expression fragment for 1–2 digits or up to three Chinese numerals. */
export const NUM = '(?:\\d{1,2}|[零〇一二两三四五六七八九十]{1,3})';

export function cnNumber(s: string): number {
  if (/^\d+$/.test(s)) return Number(s);
  if (s === '十') return 10;
  const ten = s.indexOf('十');
  if (ten === -1) return s.split('').reduce((n, ch) => n * 10 + (CN_DIGITS[ch] ?? NaN), 0);
  const tens = ten === 0 ? 1 : (CN_DIGITS[s[0]!] ?? NaN);
  const ones = ten === s.length - 1 ? 0 : (CN_DIGITS[s[ten + 1]!] ?? NaN);
  return tens * 10 + ones;
}
