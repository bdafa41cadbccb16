import { describe, expect, it } from 'vitest';
import { JsonColumnError } from '../../src/lib/json-column.ts';
import { contestSettings, testSettings } from '../../src/features/quiz/round-settings.ts';
import { jsonInsertSql } from '../../src/lib/sql-insert.ts';

describe('JSON columns', () => {
  it('reads back what it wrote', () => {
    expect(testSettings.parse(testSettings.stringify({ minutes: 30, makeupHours: 24 }))).toEqual({
      minutes: 30,
      makeupHours: 24,
    });
  });

  it('names the column when the stored text is not JSON or not the shape', () => {
    expect(() => contestSettings.parse('{"seconds":')).toThrow(JsonColumnError);
    expect(() => contestSettings.parse('{"seconds":')).toThrow(/QuizRound\.settings \(contest\)/);
    expect(() => contestSettings.parse('{"minutes":30}')).toThrow(/corrupt JSON in QuizRound\.settings \(contest\)/);
  });
});

describe('JSON-rows insert', () => {
  const spec = {
    table: 'T',
    columns: [['a', 'text', 'x'] as const, ['b', 'integer'] as const],
    constants: [['at', 'timestamp(3)'] as const],
    onConflict: 'ON CONFLICT DO NOTHING',
    returning: '"a"',
  };
  it('binds the constants before the rows for both providers', () => {
    expect(jsonInsertSql('sqlite', spec)).toBe(
      `INSERT INTO "T" ("a", "b", "at") SELECT value->>'x', value->>'b', ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING RETURNING "a"`,
    );
    expect(jsonInsertSql('postgresql', spec)).toBe(
      `INSERT INTO "T" ("a", "b", "at") SELECT x."x", x."b", $1::timestamp(3) FROM json_to_recordset($2::json) AS x("x" text, "b" integer) ON CONFLICT DO NOTHING RETURNING "a"`,
    );
  });
});
