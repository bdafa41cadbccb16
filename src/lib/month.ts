/** The calendar month (`YYYY-MM`) of an instant in a time zone. */
export function monthKey(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
  }).formatToParts(at);
  const year = parts.find((p) => p.type === 'year')?.value;
  const month = parts.find((p) => p.type === 'month')?.value;
  return `${year}-${month}`;
}

/** Day of the month (1-based) and the month's length, in a time zone. */
export function monthProgress(at: Date, timezone: string): { day: number; days: number } {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const days = new Date(Date.UTC(get('year'), get('month'), 0)).getUTCDate();
  return { day: get('day'), days };
}
