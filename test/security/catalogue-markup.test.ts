import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCardTemplates } from '../../src/bot/card-templates.ts';
import { createMessages, zhCN } from '../../src/bot/messages.ts';
import { quizNoticeCard } from '../../src/features/quiz/cards.ts';
import { createMistakes } from '../../src/features/quiz/mistakes.ts';
import type { QuizDeps } from '../../src/features/quiz/shared.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';
import { seedQuestions } from '../helpers/quiz-fixtures.ts';
import { feishuMarkdowns } from '../helpers/feishu-markdowns.ts';

/**
 * Catalogue texts are the bot's words, and card templates treat every string
 * they are given as text (bot/card-templates.ts): markup in a catalogue text
 * handed to a template shows literally (the star learner's card showed
 * `**张三**`), and a member value spliced into markup a feature builds itself
 * must be marked as member text, or it is only as safe as the baseline.
 */
const cards = loadCardTemplates(path.resolve('cards'));
const messages = createMessages();
const MARKUP = /\*\*|__|\]\(|!\[|<at\b|^#/m;

describe('catalogue texts and markup', () => {
  it('only texts that features place in elements they build carry markup', () => {
    const withMarkup = Object.entries(zhCN)
      .filter(([, text]) => MARKUP.test(text))
      .map(([key]) => key);
    // Each of these is a markdown element the feature builds, with its member values marked.
    expect(withMarkup).toEqual(['quiz.mistakes.question']);
  });

  it('the star learner card shows the name, not asterisks around it', () => {
    const card = quizNoticeCard(cards, {
      title: messages.t('quiz.star.title', { year: 2026 }),
      text: messages.t('quiz.star.text', { name: '张三', correct: 120, answered: 130 }),
    });
    expect(feishuMarkdowns(card)[0]).toBe('🌟 张三：全年答对 120 题（共作答 130 题）。');
  });
});

describe.each(providers)('the wrong-answer notebook on $name', ({ create }) => {
  let env: Awaited<ReturnType<typeof openMigrated>>;
  beforeEach(async () => {
    env = await openMigrated(create);
  });
  afterEach(async () => env.close());

  it('shows a hostile stem and option literally, in bold only where the bot puts it', async () => {
    const db = env.database.prisma;
    await db.organisation.create({ data: { id: 'demo-org', name: '机关党支部' } });
    await db.member.create({
      data: { id: 'm1', orgId: 'demo-org', platform: 'feishu', platformUserId: 'ou_1', displayName: '李明' },
    });
    const [id] = await seedQuestions(db, [
      {
        type: 'single',
        stem: '<at id=all></at>**[点我](https://evil.example/x)**',
        options: ['![](http://evil.example/x.png)', '# 标题'],
        answer: ['A'],
      },
    ]);
    await db.quizMistake.create({
      data: { memberId: 'm1', questionId: id!, orgId: 'demo-org', lastWrongAt: new Date('2026-03-02T01:00:00Z') },
    });
    const deps = {
      db,
      clock: createManualClock('2026-03-02T01:00:00Z'),
      cards,
      messages,
      answers: { settle: async () => {} },
    } as unknown as QuizDeps;
    const card = await createMistakes(deps).card('demo-org', 'm1');
    const question = feishuMarkdowns(card).find((m) => m.includes('evil'))!;
    // The bot's bold around the question stays; everything from the bank is inert.
    expect(question.startsWith('**1.【单选题】')).toBe(true);
    expect(question).not.toMatch(/<at\b|\]\(|!\[|^#/m);
    expect(question).toContain('&#42;&#42;&#91;点我&#93;&#40;https&#58;//evil.example/x&#41;&#42;&#42;');
  });
});
