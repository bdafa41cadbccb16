import { describe, expect, it } from 'vitest';
import {
  BODY_SLOTS,
  cardCode,
  createParamSigner,
  renderMarkdownMessage,
  renderPrivateResult,
  renderTemplateParams,
  splitIntoSlots,
} from '../../src/platforms/dingtalk/render-card.ts';
import { cardSchema } from '../../src/platforms/types.ts';

const card = cardSchema.parse({
  header: { title: '学习进度', colour: 'orange' },
  elements: [
    { type: 'markdown', text: '第一行\n第二行' },
    { type: 'fields', fields: [{ label: '截止', value: '3月5日' }] },
    {
      type: 'chart',
      title: '完成率',
      bars: [
        { label: '办公室', value: 8 },
        { label: '学习科', value: 4 },
      ],
    },
    { type: 'table', columns: ['姓名', '得分'], rows: [['李明', '90']] },
    {
      type: 'choice',
      name: 'answer',
      options: [
        { value: 'A', text: '上海' },
        { value: 'B', text: '北京' },
      ],
      submitText: '提交',
      actionId: 'quiz.answer',
      payload: { v: 1, q: 'q1' },
    },
    {
      type: 'form',
      inputs: [{ name: 'note', label: '心得' }],
      submitText: '提交心得',
      actionId: 'club.note',
      payload: { v: 1 },
    },
    {
      type: 'buttons',
      buttons: [{ text: '完成', style: 'primary', actionId: 'task.done', payload: { v: 1, t: 't1' } }],
    },
  ],
});

describe('DingTalk card rendering', () => {
  const signer = createParamSigner('secret');
  const outTrackId = 'abcd0000-0000-4000-8000-000000000000';

  it('renders template variables as strings: body, signed buttons (one per single-choice option), commands for the rest', () => {
    const params = renderTemplateParams(card, {
      outTrackId,
      signer,
      hint: { code: cardCode(outTrackId) },
    });
    for (const v of Object.values(params)) expect(typeof v).toBe('string');
    expect(params.title).toBe('学习进度');
    expect(params.colour).toBe('orange');
    expect(params.body1).toContain('**截止**：3月5日');
    expect(params.body1).toContain('办公室 ▇▇▇▇▇▇▇▇▇▇ 8');
    expect(params.body1).toContain('| 李明 | 90 |');
    expect(params.body1).toContain('提交心得：按 abcd 2 <心得>');
    const buttons = JSON.parse(params.buttons!) as { text: string; color: string; d: string; s: string }[];
    expect(buttons.map((b) => b.text)).toEqual(['A. 上海', 'B. 北京', '完成']);
    expect(buttons[2]!.color).toBe('blue');
    expect(signer.open(outTrackId, buttons[0]!.d, buttons[0]!.s)).toEqual({
      a: 'quiz.answer',
      p: { v: 1, q: 'q1' },
      f: { answer: 'A' },
    });
    expect(params.hasButtons).toBe('true');
    expect(Object.keys(params).filter((k) => k.startsWith('body'))).toHaveLength(BODY_SLOTS);
  });

  it('refuses params that were edited or moved to another card', () => {
    const { d, s } = signer.sign(outTrackId, { a: 'task.done', p: { v: 1, t: 't1' } });
    expect(signer.open(outTrackId, d, s)).toBeDefined();
    expect(signer.open(outTrackId, d.replace('t1', 't2'), s)).toBeUndefined();
    expect(signer.open('another-card', d, s)).toBeUndefined();
    expect(createParamSigner('other-secret').open(outTrackId, d, s)).toBeUndefined();
    expect(signer.open(outTrackId, { a: 1 }, s)).toBeUndefined();
  });

  it('lists every action as a text command in the markdown fallback, with DingTalk hard breaks', () => {
    const md = renderMarkdownMessage(card, { code: 'abcd' });
    expect(md.title).toBe('学习进度');
    expect(md.text).toContain('第一行  \n第二行');
    expect(md.text).toContain('提交：按 abcd 1 A');
    expect(md.text).toContain('提交心得：按 abcd 2 <心得>');
    expect(md.text).toContain('完成：按 abcd 3');
  });

  it('splits a long body on line boundaries within the byte limit of a variable', () => {
    const line = '学'.repeat(100); // 300 bytes
    const slots = splitIntoSlots(Array.from({ length: 12 }, () => line).join('\n'), 6, 1000);
    expect(slots).toHaveLength(4);
    for (const s of slots) expect(Buffer.byteLength(s)).toBeLessThanOrEqual(1000);
    expect(slots.join('\n')).toBe(Array.from({ length: 12 }, () => line).join('\n'));
    const huge = splitIntoSlots('字'.repeat(5000), 2, 1000);
    expect(huge).toHaveLength(2);
    expect(huge[1]).toContain('已截断');
  });

  it('turns a toast into the private result line', () => {
    expect(renderPrivateResult({ kind: 'success', text: '已签到' })).toEqual({
      result: '✅ 已签到',
      resultKind: 'success',
    });
  });

  it('renders a link as a markdown link in the body of both renderings, never as a callback button', () => {
    const withLink = cardSchema.parse({
      header: { title: '闭卷测试 · 第1场 · 成绩表', colour: 'green' },
      elements: [
        { type: 'markdown', text: '成绩表已生成。' },
        { type: 'link', text: '下载成绩表（XLSX）', url: 'https://bot.example.org/files/abc/%E6%88%90%E7%BB%A9.xlsx' },
      ],
    });
    const link = '[下载成绩表（XLSX）](https://bot.example.org/files/abc/%E6%88%90%E7%BB%A9.xlsx)';
    const params = renderTemplateParams(withLink, { outTrackId, signer, hint: { code: cardCode(outTrackId) } });
    expect(params.body1).toContain(link);
    expect(params.buttons).toBe('[]');
    expect(params.hasButtons).toBe('false');
    const md = renderMarkdownMessage(withLink, { code: 'abcd' });
    expect(md.text).toContain(link);
    expect(md.text).not.toContain('按 abcd');
  });
});
