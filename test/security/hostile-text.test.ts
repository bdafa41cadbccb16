/* eslint-disable @typescript-eslint/no-explicit-any -- Feishu card JSON is walked freely here */
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCardTemplates } from '../../src/bot/card-templates.ts';
import {
  renderMarkdownMessage,
  renderTemplateParams,
  createParamSigner,
} from '../../src/platforms/dingtalk/render-card.ts';
import { createValueSealer } from '../../src/platforms/feishu/crypto.ts';
import { textWithMentions } from '../../src/platforms/feishu/messenger.ts';
import { CARD_MAX_BYTES, renderFeishuCard } from '../../src/platforms/feishu/render-card.ts';
import { renderCardHtml } from '../../src/platforms/sandbox/render-html.ts';
import { MAX_MEMBER_SPAN } from '../../src/platforms/text.ts';
import type { Card } from '../../src/platforms/types.ts';
import { BOT, CHAT, PEOPLE, startFeishuBot, type FeishuBot } from '../helpers/fake-feishu-setup.ts';
import { correctChoice, QUIZ_ENV, SAMPLE, seedQuestions } from '../helpers/quiz-fixtures.ts';
import { feishuMarkdowns } from '../helpers/feishu-markdowns.ts';

/**
 * Finding: a member whose display name was
 * `<at id=all></at>**[点我](https://evil.example/x)**` answered correctly, and
 * the Feishu reveal card and the podium carried the name verbatim — a mention
 * of everyone and a link. Member and file text is now escaped for the format
 * it lands in, by the renderers: every renderer below is given the same hostile
 * strings through the real card templates, and what the platform would show
 * is the literal text, with no mention, no link, no image, no heading.
 */
const EVIL_NAME = '<at id=all></at>**[点我](https://evil.example/x)**';

/** Each hostile string and what a member must see (bidi overrides removed, very long text cut). */
const HOSTILE: { name: string; input: string; shows: string }[] = [
  { name: 'Feishu card at-all', input: '<at id=all></at>', shows: '<at id=all></at>' },
  { name: 'Feishu text at-all', input: '<at user_id="all"></at>', shows: '<at user_id="all"></at>' },
  { name: 'link', input: '[x](https://evil.example/x)', shows: '[x](https://evil.example/x)' },
  { name: 'image', input: '![](http://evil.example/x.png)', shows: '![](http://evil.example/x.png)' },
  { name: 'heading', input: '# 通知', shows: '# 通知' },
  { name: 'bold', input: '**加粗**', shows: '**加粗**' },
  { name: 'bare URL', input: 'https://evil.example/x', shows: 'https://evil.example/x' },
  { name: 'RTL override', input: '李\u202Egnp.exe', shows: '李gnp.exe' },
  {
    name: 'HTML',
    input: '<script>alert(1)</script><img src=x onerror=alert(1)>',
    shows: '<script>alert(1)</script><img src=x onerror=alert(1)>',
  },
  { name: 'the display name of the finding', input: EVIL_NAME, shows: EVIL_NAME },
  // A name carrying the marks themselves cannot close its span and smuggle markup out.
  {
    name: 'forged member-text marks',
    input: '\uE001[点我](https://evil.example/x)\uE000',
    shows: '[点我](https://evil.example/x)',
  },
  { name: '10,000 characters', input: '长'.repeat(10_000), shows: `${'长'.repeat(MAX_MEMBER_SPAN)}…` },
];

const cards = loadCardTemplates(path.resolve('cards'));

/** The podium and the reveal card with `s` as the winner's name, the stem and the explanation. */
function hostileCards(s: string): Card[] {
  return [
    cards.render('quiz-podium', {
      seq: 3,
      title: '知识抢答赛',
      total: 1,
      voided: 0,
      empty: false,
      podium: [{ place: '🥇', name: s, points: 980, correct: 1 }],
      rows: [['1', s, '1', '980']],
    }),
    cards.render('quiz-question', {
      seq: 3,
      position: 1,
      total: 1,
      typeLabel: '单选题',
      stem: s,
      options: [{ key: 'A', text: s }],
      seconds: 20,
      deadline: '09:00:20',
      controls: [],
      revealed: true,
      answer: 'A',
      explanation: s,
      winners: [{ name: s, points: 980 }],
      answeredCount: 1,
      voided: false,
    }),
  ];
}

/**
 * A permissive model of a chat client's markdown: CommonMark with raw HTML,
 * links, images and autolinks all on. If member text could become a tag, a
 * link, an image or a heading on any platform, it becomes one here.
 */
const client = new MarkdownIt({ html: true, linkify: true });
const decode = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
function shown(markdown: string): { html: string; text: string } {
  const html = client.render(markdown);
  return { html, text: decode(html.replace(/<[^>]*>/g, '')) };
}

/** Nothing a member typed became structure: no mention tag, HTML, link, image or heading. */
function expectInert(html: string) {
  expect(html).not.toMatch(/<at\b/i);
  expect(html).not.toMatch(/<a\s/i);
  expect(html).not.toMatch(/<img\b/i);
  expect(html).not.toMatch(/<script\b/i);
  expect(html).not.toMatch(/<h[1-6]\b/i);
}

describe('member text cannot escape its card or message', () => {
  for (const h of HOSTILE) {
    describe(h.name, () => {
      it('Feishu card: each markdown block shows the text literally; bold only where the template puts it', () => {
        for (const card of hostileCards(h.input)) {
          const json = JSON.stringify(renderFeishuCard(card, createValueSealer('s'), { binding: 'chat:oc_1' }));
          expect(Buffer.byteLength(json)).toBeLessThan(CARD_MAX_BYTES);
          const blocks = feishuMarkdowns(card).map(shown);
          for (const b of blocks) expectInert(b.html);
          expect(blocks.some((b) => b.text.includes(h.shows))).toBe(true);
          // The podium's own bold around the name is the only emphasis there.
          if (card.header.title.includes('最终排名')) {
            expect(blocks[0]!.html.match(/<strong>/g)).toHaveLength(1);
            expect(blocks[0]!.html).not.toContain('<em>');
          }
        }
      });

      it('Feishu text message: no tag, no bold, no link; the bot’s own mention still works', () => {
        const out = textWithMentions(`@李明 恭喜 ${h.input} 答对`, [{ id: 'ou_li', name: '李明' }]);
        expect(out.startsWith('<at user_id="ou_li">李明</at> 恭喜 ')).toBe(true);
        const rest = out.slice('<at user_id="ou_li">李明</at>'.length);
        expect(rest).not.toMatch(/<[A-Za-z/]/);
        expect(rest).not.toMatch(/\*\*/);
        expect(rest).not.toMatch(/\]\(/);
        // What Feishu shows: the references decoded, the invisible joiners not seen.
        // Text messages are not cut here (the outbox refuses what is too long for the platform).
        const literal = h.input.replace(/[\u202A-\u202E\u2066-\u2069\uE000\uE001]/g, '');
        expect(decode(rest).replace(/\u2060/g, '') === ` 恭喜 ${literal} 答对`).toBe(true);
      });

      it('DingTalk markdown message and card template: the text literally', () => {
        for (const card of hostileCards(h.input)) {
          const md = renderMarkdownMessage(card, { code: 'ab12' });
          const msg = shown(md.text);
          // The renderer's own title is the one heading.
          expect(msg.html.match(/<h[1-6]\b/g)).toHaveLength(1);
          expectInert(msg.html.replace(/^<h4>.*?<\/h4>\n/, ''));
          expect(msg.text).toContain(h.shows);
          const params = renderTemplateParams(card, {
            outTrackId: 'o1',
            signer: createParamSigner('secret'),
            hint: { code: 'ab12' },
          });
          const body = shown(
            Array.from({ length: 6 }, (_, i) => params[`body${i + 1}`])
              .filter(Boolean)
              .join('\n'),
          );
          expectInert(body.html);
        }
      });

      it('sandbox page: the text literally, no element from it, no external image fetched', () => {
        for (const card of hostileCards(h.input)) {
          const html = renderCardHtml(card);
          expectInert(html);
          expect(decode(html.replace(/<[^>]*>/g, ''))).toContain(h.shows);
        }
      });
    });
  }

  it('sandbox page: markdown images in the bot’s own markup are not rendered either (nothing is fetched)', () => {
    const html = renderCardHtml({
      header: { title: 't', colour: 'blue' },
      elements: [{ type: 'markdown', text: '说明 ![](http://evil.example/x.png) [链接](https://evil.example/)' }],
    });
    expect(html).not.toMatch(/<img\b/i);
    expect(html).not.toMatch(/<a\s/i);
  });
});

describe('Feishu, end to end: a hostile display name answering correctly', () => {
  let bot: FeishuBot | undefined;
  afterEach(async () => {
    await bot?.close();
    bot = undefined;
  });

  it('shows literally on the reveal card and the podium, mentioning no one and linking nowhere', async () => {
    bot = await startFeishuBot({ env: { ...QUIZ_ENV, SHUXIANG_ADMINS: `feishu:${PEOPLE.wang.open_id}` } });
    bot.chat.members.find((m) => m.open_id === PEOPLE.li.open_id)!.name = EVIL_NAME;
    const say = async (openId: string, text: string) => {
      await bot!.post(
        bot!.pusher.push(bot!.pusher.textMessage({ senderOpenId: openId, chatId: CHAT, text, botOpenId: BOT })),
      );
      await bot!.settle();
    };
    await say(PEOPLE.wang.open_id, '我的身份');
    const orgId = (await bot.h.shuxiang.db.prisma.chat.findFirstOrThrow({ where: { platformChatId: CHAT } })).orgId;
    // Single-choice questions only, so the right answer is a button.
    const choices = SAMPLE.filter((x) => x.type === 'single');
    await seedQuestions(bot.h.shuxiang.db.prisma, choices, orgId);
    await say(PEOPLE.li.open_id, '我的身份'); // the member's name is learnt from the chat's member list
    await say(PEOPLE.wang.open_id, '出题 1 党史');
    const question = bot.fake
      .sent({ chat_id: CHAT, msg_type: 'interactive' })
      .find((m) => m.content.includes('知识抢答赛'))!;
    const q = choices.find((x) => question.content.includes(x.stem))!;
    const buttons: any[] = [];
    const walk = (n: any) => {
      if (Array.isArray(n)) return n.forEach(walk);
      if (!n || typeof n !== 'object') return;
      if (n.tag === 'button') buttons.push(n);
      Object.values(n).forEach(walk);
    };
    walk(JSON.parse(question.content));
    const right = buttons.find((b) => b.text?.content?.startsWith(correctChoice(q)));
    expect(right, 'a choice question with a button for the right answer').toBeDefined();
    bot.h.clock.advance(3000);
    await bot.post(
      bot.pusher.push(
        bot.pusher.cardClick({
          operatorOpenId: PEOPLE.li.open_id,
          messageId: question.message_id,
          chatId: CHAT,
          value: right.behaviors[0].value,
        }),
      ),
    );
    bot.h.clock.advance(21_000);
    await bot.h.shuxiang.scheduler.tick();
    await bot.settle();

    const reveal = bot.fake.messages.get(question.message_id)!.content;
    const podium = bot.fake
      .sent({ chat_id: CHAT, msg_type: 'interactive' })
      .find((m) => m.content.includes('最终排名'))!;
    expect(podium, 'podium delivered').toBeDefined();
    for (const content of [reveal, podium.content]) {
      // Markdown blocks are read as markup by Feishu; table cells (data_type text) and plain_text are not.
      const blocks: string[] = [];
      const cells: string[] = [];
      const collect = (n: any) => {
        if (Array.isArray(n)) return n.forEach(collect);
        if (!n || typeof n !== 'object') return;
        if (n.tag === 'markdown') blocks.push(n.content);
        if (n.tag === 'table') {
          expect(n.columns.every((c: any) => c.data_type === 'text')).toBe(true);
          for (const r of n.rows) cells.push(...Object.values(r).map(String));
        }
        Object.values(n).forEach(collect);
      };
      collect(JSON.parse(content));
      const views = blocks.map((b) => shown(b));
      for (const v of views) expectInert(v.html);
      expect(views.some((v) => v.text.includes(EVIL_NAME)) || cells.includes(EVIL_NAME)).toBe(true);
    }
    // The podium names the winner in its markdown line, literally.
    expect(
      JSON.parse(podium.content)
        .body.elements.filter((e: any) => e.tag === 'markdown')
        .some((e: any) => shown(e.content).text.includes(`🥇 ${EVIL_NAME}`)),
    ).toBe(true);
  });
});
