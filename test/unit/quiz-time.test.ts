import { describe, expect, it } from 'vitest';
import {
  endOfLocalDay,
  nextWorkingDayAt,
  parseLocalDateTime,
  periodKey,
  periodKeys,
  periodRange,
} from '../../src/features/quiz/time.ts';

const TZ = 'Asia/Shanghai';
const sh = (local: string) => new Date(`${local.replace(' ', 'T')}:00+08:00`);
const at9 = { hour: 9, minute: 0 };

describe('working days in the organisation time zone', () => {
  it('skips the National Day holiday 2026 and fires on the adjusted working Saturday', () => {
    // 2026-09-30 is a Wednesday; 10-01..10-07 are off; 10-10 (Saturday) is a working day.
    expect(nextWorkingDayAt(sh('2026-09-30 09:00'), at9, TZ)).toEqual(sh('2026-10-08 09:00'));
    expect(nextWorkingDayAt(sh('2026-10-09 09:00'), at9, TZ)).toEqual(sh('2026-10-10 09:00'));
    expect(nextWorkingDayAt(sh('2026-10-10 09:00'), at9, TZ)).toEqual(sh('2026-10-12 09:00'));
  });

  it('fires later today when the time has not passed yet, in local time not UTC', () => {
    expect(nextWorkingDayAt(sh('2026-03-02 08:59'), at9, TZ)).toEqual(sh('2026-03-02 09:00'));
    // 00:30 in Shanghai is still the previous day in UTC.
    expect(nextWorkingDayAt(sh('2026-03-03 00:30'), at9, TZ)).toEqual(sh('2026-03-03 09:00'));
    expect(endOfLocalDay(sh('2026-03-03 00:30'), TZ)).toEqual(sh('2026-03-04 00:00'));
  });

  it('names periods by local date: ISO weeks starting Monday, months and years', () => {
    // 2026-01-01 00:30 in Shanghai is 2025-12-31 in UTC.
    expect(periodKeys(sh('2026-01-01 00:30'), TZ)).toEqual(['W2026-01', 'M2026-01', 'Y2026']);
    expect(periodKey('week', sh('2026-03-01 23:00'), TZ)).toBe('W2026-09'); // a Sunday
    expect(periodKey('week', sh('2026-03-02 00:10'), TZ)).toBe('W2026-10'); // the Monday after
    const w = periodRange('W2026-10', TZ);
    expect(w.start).toEqual(sh('2026-03-02 00:00'));
    expect(w.end).toEqual(sh('2026-03-09 00:00'));
    expect(periodRange('M2026-12', TZ).end).toEqual(sh('2027-01-01 00:00'));
    expect(periodRange('Y2026', TZ).start).toEqual(sh('2026-01-01 00:00'));
  });

  it('parses the date-times secretaries type', () => {
    const now = sh('2026-03-02 09:00');
    expect(parseLocalDateTime('3-6 18:00', now, TZ)).toEqual(sh('2026-03-06 18:00'));
    expect(parseLocalDateTime('2026-03-06T18:00', now, TZ)).toEqual(sh('2026-03-06 18:00'));
    expect(parseLocalDateTime('3月6日 18:00', now, TZ)).toEqual(sh('2026-03-06 18:00'));
    expect(parseLocalDateTime('18：00', now, TZ)).toEqual(sh('2026-03-02 18:00'));
    expect(parseLocalDateTime('2-30 18:00', now, TZ)).toBeNull();
    expect(parseLocalDateTime('tomorrow', now, TZ)).toBeNull();
  });
});
