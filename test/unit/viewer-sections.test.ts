import { describe, expect, it } from 'vitest';
import {
  cardCode,
  createParamSigner,
  listActionables,
  renderMarkdownMessage,
  renderPrivateSection,
  renderTemplateParams,
  renderViewerPrivateData,
} from '../../src/platforms/dingtalk/render-card.ts';
import { createValueSealer } from '../../src/platforms/feishu/crypto.ts';
import { renderFeishuCard } from '../../src/platforms/feishu/render-card.ts';
import { renderCardHtml } from '../../src/platforms/sandbox/render-html.ts';
import { MAX_SECTION_VIEWERS, cardActions, cardForViewer, cardSchema } from '../../src/platforms/types.ts';

const HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>';

/** A reading-club sign-in card: everyone sees the counter, each member their own line. */
const signIn = cardSchema.parse({
  header: { title: '读书会签到' },
  elements: [
    { type: 'markdown', text: '已签到：2 人' },
    {
      type: 'viewer',
      key: 'me',
      default: [{ type: 'buttons', buttons: [{ text: '签到', actionId: 'club.checkin', payload: { v: 1 } }] }],
      byUser: {
        'm-li': [{ type: 'markdown', text: '你已签到 09:02' }],
        'm-zhang': [
          { type: 'markdown', text: `你已签到 09:05 ${HOSTILE}` },
          { type: 'buttons', buttons: [{ text: '撤销签到', actionId: 'club.undo', payload: { v: 1 } }] },
        ],
      },
    },
    { type: 'buttons', buttons: [{ text: '名单', actionId: 'club.list', payload: { v: 1 } }] },
  ],
});

describe('viewer sections of the neutral card', () => {
  it('cardActions finds the buttons inside every section; a viewer sees their own', () => {
    expect(cardActions(signIn).map((a) => a.actionId)).toEqual(['club.checkin', 'club.undo', 'club.list']);
    expect(cardActions(cardForViewer(signIn, 'm-li')).map((a) => a.actionId)).toEqual(['club.list']);
    expect(cardActions(cardForViewer(signIn, 'm-chen')).map((a) => a.actionId)).toEqual(['club.checkin', 'club.list']);
    expect(cardForViewer(signIn, 'm-li').elements.map((e) => e.type)).toEqual(['markdown', 'markdown', 'buttons']);
  });

  it('refuses a section inside a section, and more than the allowed members', () => {
    const nested = cardSchema.safeParse({
      header: { title: 't' },
      elements: [{ type: 'viewer', key: 'a', default: [{ type: 'viewer', key: 'b', default: [] }] }],
    });
    expect(nested.success).toBe(false);
    const many = (n: number) =>
      cardSchema.safeParse({
        header: { title: 't' },
        elements: [
          {
            type: 'viewer',
            key: 'a',
            default: [],
            byUser: Object.fromEntries(Array.from({ length: n }, (_, i) => [`u${i}`, [{ type: 'divider' }]])),
          },
        ],
      });
    expect(many(MAX_SECTION_VIEWERS).success).toBe(true);
    expect(many(MAX_SECTION_VIEWERS + 1).success).toBe(false);
  });

  it('sandbox HTML shows the viewer their own section, everyone else the default, escaped', () => {
    const li = renderCardHtml(signIn, 'm-li');
    expect(li).toContain('你已签到 09:02');
    expect(li).not.toContain('data-action-id="club.checkin"');
    const chen = renderCardHtml(signIn, 'm-chen');
    expect(chen).toContain('data-action-id="club.checkin"');
    expect(chen).not.toContain('你已签到');
    expect(renderCardHtml(signIn)).toBe(chen);
    const zhang = renderCardHtml(signIn, 'm-zhang');
    expect(zhang).toContain('data-action-id="club.undo"');
    expect(zhang).not.toContain('<script>');
    expect(zhang).not.toContain('<img');
  });

  it('Feishu: a group card shows everyone the default; a private card its one member’s section', () => {
    const sealer = createValueSealer('secret');
    const group = JSON.stringify(renderFeishuCard(signIn, sealer, { binding: 'chat:oc_1' }));
    expect(group).toContain('签到');
    expect(group).not.toContain('你已签到');
    expect(group).not.toContain('club.undo');
    const own = JSON.stringify(renderFeishuCard(signIn, sealer, { binding: 'user:m-zhang', viewer: 'm-zhang' }));
    expect(own).toContain('club.undo');
    expect(own).not.toContain('"club.checkin"');
    // Member text reaches Feishu as JSON string content, never as card structure, and no tag survives.
    expect((JSON.parse(own) as { body: { elements: { content?: string }[] } }).body.elements[1]!.content).toBe(
      `你已签到 09:05 ${HOSTILE.replace(/</g, '&lt;')}`,
    );
  });

  it('DingTalk: the public data holds the default section, each listed member their own as private data', () => {
    const signer = createParamSigner('secret');
    const outTrackId = 'abcd0000-0000-4000-8000-000000000000';
    const opts = { outTrackId, signer, hint: { code: cardCode(outTrackId) } };
    const params = renderTemplateParams(signIn, opts);
    expect(params.body1).toBe('已签到：2 人');
    expect(params.body1).not.toContain('你已签到');
    const sectionButtons = JSON.parse(params.sectionButtons!) as { text: string; d: string; s: string }[];
    expect(sectionButtons.map((b) => b.text)).toEqual(['签到']);
    expect(signer.open(outTrackId, sectionButtons[0]!.d, sectionButtons[0]!.s)?.a).toBe('club.checkin');
    expect((JSON.parse(params.buttons!) as { text: string }[]).map((b) => b.text)).toEqual(['名单']);

    const priv = renderViewerPrivateData(signIn, opts);
    expect(Object.keys(priv).sort()).toEqual(['m-li', 'm-zhang']);
    expect(priv['m-li']!.cardParamMap).toMatchObject({ hasMySection: 'true', mySection: '你已签到 09:02' });
    expect(priv['m-li']!.cardParamMap.hasMySectionButtons).toBe('false');
    const zhang = priv['m-zhang']!.cardParamMap;
    expect(zhang.mySection).toBe(`你已签到 09:05 ${HOSTILE.replace(/</g, '&lt;')}`);
    const own = JSON.parse(zhang.mySectionButtons!) as { text: string; d: string; s: string }[];
    expect(signer.open(outTrackId, own[0]!.d, own[0]!.s)?.a).toBe('club.undo');
    // Someone not listed (or no longer listed) is switched back to the default.
    expect(renderPrivateSection(signIn, 'm-chen', opts).hasMySection).toBe('false');
  });

  it('DingTalk text commands: shared actions keep their numbers whatever a member’s section holds', () => {
    expect(listActionables(signIn).map((a) => [a.n, a.actionId])).toEqual([
      [1, 'club.list'],
      [2, 'club.checkin'],
    ]);
    expect(listActionables(signIn, 'm-zhang').map((a) => [a.n, a.actionId])).toEqual([
      [1, 'club.list'],
      [2, 'club.undo'],
    ]);
    const group = renderMarkdownMessage(signIn, { code: 'abcd' });
    expect(group.text).not.toContain('你已签到');
    expect(renderMarkdownMessage(signIn, { code: 'abcd' }, 'm-li').text).toContain('你已签到 09:02');
  });
});
