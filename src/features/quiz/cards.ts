import type { CardTemplates } from '../../bot/card-templates.ts';
import type { Card, CardElement } from '../../platforms/types.ts';

/**
 * Typed builders for the quiz card templates (cards/quiz-*.json): what each
 * template reads is spelled out here once, so a missing field is a type error
 * rather than an empty spot on a card.
 */
export interface Option {
  key: string;
  text: string;
}

export interface NoticeCard {
  title: string;
  colour?: 'blue' | 'green' | 'orange' | 'red';
  text?: string;
  fields?: { label: string; value: string }[];
  table?: { columns: string[]; rows: string[][] } | null;
  note?: string;
  controls?: unknown[];
}

export interface QuestionCard {
  seq: number;
  position: number;
  total: number;
  typeLabel: string;
  stem: string;
  options: Option[];
  /** Seconds to answer and the clock time of the deadline, while open. */
  seconds: number;
  deadline: string;
  /** How to answer, matching the controls (answerHint). */
  hint: string;
  controls: CardElement[];
  revealed: boolean;
  answer: string;
  explanation: string;
  winners: { name: string; points: number }[];
  answeredCount: number;
  voided: boolean;
}

export interface TestQuestionCard {
  title: string;
  seq: number;
  position: number;
  total: number;
  typeLabel: string;
  stem: string;
  options: Option[];
  /** When the attempt ends: a fixed time, since a sent card does not tick. */
  deadline: string;
  hint: string;
  feedback: string;
  controls: CardElement[];
}

export interface DailyCard {
  seq: number;
  date: string;
  closes: string;
  closed: boolean;
  summary: string;
  questions: {
    position: number;
    typeLabel: string;
    stem: string;
    options: Option[];
    controls: CardElement[];
    result: string;
  }[];
}

export interface PodiumCard {
  seq: number;
  title: string;
  total: number;
  voided: number;
  empty: boolean;
  podium: { place: string | undefined; name: string; points: number; correct: number }[];
  rows: string[][];
}

export interface BoardCard {
  title: string;
  nameColumn: string;
  rows: string[][];
  chart: boolean;
  bars: { label: string; value: number }[];
  mine: string;
  empty: boolean;
  note: string;
}

export function quizNoticeCard(cards: CardTemplates, input: NoticeCard): Card {
  return cards.render('quiz-notice', {
    title: input.title,
    colour: input.colour ?? 'blue',
    text: input.text ?? '',
    fields: input.fields ?? [],
    table: input.table ?? null,
    note: input.note ?? '',
    controls: input.controls ?? [],
  });
}

export const quizQuestionCard = (cards: CardTemplates, input: QuestionCard): Card =>
  cards.render('quiz-question', { ...input });

export const quizTestQuestionCard = (cards: CardTemplates, input: TestQuestionCard): Card =>
  cards.render('quiz-test-question', { ...input });

export const quizDailyCard = (cards: CardTemplates, input: DailyCard): Card => cards.render('quiz-daily', { ...input });

export const quizPodiumCard = (cards: CardTemplates, input: PodiumCard): Card =>
  cards.render('quiz-podium', { ...input });

export const quizBoardCard = (cards: CardTemplates, input: BoardCard): Card => cards.render('quiz-board', { ...input });
