import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CardTemplateError, loadCardTemplates } from '../../src/bot/card-templates.ts';
import { renderCardHtml } from '../../src/platforms/sandbox/render-html.ts';
import { cardActions, cardSchema } from '../../src/platforms/types.ts';

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cards-'));
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  }
  return dir;
}

describe('card templates', () => {
  it('every shipped template renders its example into a valid card', () => {
    const cards = loadCardTemplates('cards');
    expect(cards.names()).toContain('help');
  });

  it('renders no escape sequences as literal text (json-e string literals do not unescape)', () => {
    const cards = loadCardTemplates('cards');
    for (const name of cards.names()) {
      const example = (JSON.parse(readFileSync(path.join('cards', `${name}.json`), 'utf8')) as { example: object })
        .example;
      const text = JSON.stringify(cards.render(name, example as Record<string, unknown>));
      expect(text, name).not.toMatch(/\\\\[nut]/);
    }
  });

  it('binds data with json-e', () => {
    const dir = dirWith({
      'hello.json': {
        example: { name: '李明' },
        template: { header: { title: '你好，${name}' }, elements: [{ type: 'markdown', text: '欢迎' }] },
      },
    });
    const card = loadCardTemplates(dir).render('hello', { name: '张华' });
    expect(card.header).toEqual({ title: '你好，张华', colour: 'blue' });
  });

  it('refuses to start with a broken template, naming every bad file and why', () => {
    const dir = dirWith({
      'good.json': { example: {}, template: { header: { title: 'ok' }, elements: [] } },
      'syntax.json': '{ "example": {',
      'shape.json': { example: {}, template: { header: { title: 'x' }, elements: [{ type: 'buttons', buttons: [] }] } },
      'expr.json': { example: {}, template: { header: { title: '${missing.field}' }, elements: [] } },
      'bare.json': { template: {} },
    });
    let error: CardTemplateError | undefined;
    try {
      loadCardTemplates(dir);
    } catch (err) {
      error = err as CardTemplateError;
    }
    expect(error).toBeInstanceOf(CardTemplateError);
    const problems = error!.problems.join('\n');
    for (const f of ['syntax.json', 'shape.json', 'expr.json', 'bare.json']) expect(problems).toContain(f);
    expect(problems).not.toContain('good.json');
  });
});

describe('sandbox card HTML', () => {
  it('escapes everything a member could have typed', () => {
    const html = renderCardHtml({
      header: { title: '<script>alert(1)</script>', colour: 'red' },
      elements: [
        { type: 'markdown', text: '**粗体** <img src=x onerror=alert(1)>' },
        { type: 'fields', fields: [{ label: '"><b>', value: 'a&b' }] },
        { type: 'buttons', buttons: [{ text: '点我', style: 'primary', actionId: 'x.y', payload: { q: '"\'<' } }] },
      ],
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('<strong>粗体</strong>');
    expect(html).toContain('&#60;script&#62;');
    expect(html).toContain('data-action-id="x.y"');
  });

  it('renders a link as a download anchor styled as a button, not as an action', () => {
    const html = renderCardHtml(
      cardSchema.parse({
        header: { title: '成绩表', colour: 'green' },
        elements: [{ type: 'link', text: '下载"成绩"', url: '/files/abc/%E6%88%90%E7%BB%A9.xlsx' }],
      }),
    );
    expect(html).toContain(
      '<a class="btn btn-primary" href="/files/abc/%E6%88%90%E7%BB%A9.xlsx" download rel="noopener noreferrer">下载&#34;成绩&#34;</a>',
    );
    expect(html).not.toContain('data-action-id');
  });
});

describe('link elements of the neutral card', () => {
  const card = (url: string) =>
    cardSchema.safeParse({ header: { title: 't' }, elements: [{ type: 'link', text: '下载', url }] });

  it('are not actions: cardActions lists the buttons beside them only', () => {
    const parsed = cardSchema.parse({
      header: { title: 't' },
      elements: [
        { type: 'link', text: '下载', url: 'https://bot.example.org/files/x' },
        { type: 'buttons', buttons: [{ text: '开始', actionId: 'quiz.test.start', payload: { v: 1 } }] },
      ],
    });
    expect(cardActions(parsed)).toEqual([{ actionId: 'quiz.test.start', payload: { v: 1 } }]);
  });

  it('point only at http(s) URLs or paths on this bot', () => {
    for (const ok of ['https://bot.example.org/files/x/a.xlsx', 'http://127.0.0.1:3000/files/x', '/files/x/a.xlsx'])
      expect(card(ok).success, ok).toBe(true);
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', '//evil.example/x', 'files/x', 'https://a b'])
      expect(card(bad).success, bad).toBe(false);
  });
});
