import { z } from 'zod';
import { jsonColumn } from '../../lib/json-column.ts';

/**
 * QuizRound.settings, one shape per round kind. Writers stringify through
 * these codecs and readers parse through them, so a round whose settings do
 * not fit its kind fails loudly, naming the column.
 */
export const contestSettingsSchema = z.object({ seconds: z.number().positive() });
export type ContestSettings = z.infer<typeof contestSettingsSchema>;

/** Daily practice: `private` sends each member their own card instead of one group card. */
export const dailySettingsSchema = z.object({ private: z.boolean().optional() });
export type DailySettings = z.infer<typeof dailySettingsSchema>;

/** Tests, and the make-up rounds that copy their parent's settings. */
export const testSettingsSchema = z.object({ minutes: z.number().positive(), makeupHours: z.number().min(0) });
export type TestSettings = z.infer<typeof testSettingsSchema>;

export const contestSettings = jsonColumn(contestSettingsSchema, 'QuizRound.settings (contest)');
export const dailySettings = jsonColumn(dailySettingsSchema, 'QuizRound.settings (daily)');
export const testSettings = jsonColumn(testSettingsSchema, 'QuizRound.settings (test/makeup)');
