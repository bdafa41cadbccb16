import MarkdownIt from 'markdown-it';
import { plainText, renderMarked, withoutBidi } from '../text.ts';
import { sectionFor, type Card, type CardElement, type SectionElement } from '../types.ts';

/**
 * Renders a neutral card as HTML for the sandbox page. Markdown goes through
 * markdown-it with raw HTML disabled, and without images, links, autolinks
 * and headings — the page never fetches an external image, and a text block
 * never links anywhere (downloads are link elements). Member spans are
 * backslash-escaped so they show literally; everything else is escaped as
 * plain text. Buttons carry their action id and payload in data attributes;
 * the page posts them to /sandbox/api/actions. Link elements are plain
 * `<a download>` anchors.
 */
const md = new MarkdownIt({ html: false, linkify: false, breaks: true }).disable([
  'image',
  'link',
  'autolink',
  'heading',
  'lheading',
]);

/** CommonMark lets any ASCII punctuation be escaped with a backslash: member text becomes literal text. */
function escapeCommonMark(s: string): string {
  return s.replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

function markdownHtml(text: string): string {
  return md.render(renderMarked(text, { member: escapeCommonMark, markup: withoutBidi }));
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A plain-text field: marks, bidi overrides and excess length out, then HTML-escaped. */
const text = (s: string) => escapeHtml(plainText(s));

function attr(value: unknown): string {
  return escapeHtml(JSON.stringify(value));
}

function element(el: SectionElement): string {
  switch (el.type) {
    case 'markdown':
      return `<div class="md">${markdownHtml(el.text)}</div>`;
    case 'note':
      return `<div class="note">${text(el.text)}</div>`;
    case 'divider':
      return '<hr>';
    case 'fields':
      return `<dl class="fields">${el.fields
        .map((f) => `<dt>${text(f.label)}</dt><dd>${text(f.value)}</dd>`)
        .join('')}</dl>`;
    case 'buttons':
      return `<div class="buttons">${el.buttons
        .map(
          (b) =>
            `<button class="btn btn-${b.style}" data-action-id="${escapeHtml(b.actionId)}" data-payload="${attr(b.payload)}">${text(b.text)}</button>`,
        )
        .join('')}</div>`;
    case 'link':
      // An ordinary link styled as a button: the browser downloads the file, the bot is not called.
      // The card schema already refused any scheme but http(s) and paths on this bot.
      return `<div class="buttons"><a class="btn btn-${el.style}" href="${escapeHtml(el.url)}" download rel="noopener noreferrer">${text(el.text)}</a></div>`;
    case 'choice': {
      const kind = el.multiple ? 'checkbox' : 'radio';
      const opts = el.options
        .map(
          (o) =>
            `<label class="opt"><input type="${kind}" name="${escapeHtml(el.name)}" value="${escapeHtml(o.value)}"> ${text(o.text)}</label>`,
        )
        .join('');
      return `<form class="choice" data-action-id="${escapeHtml(el.actionId)}" data-payload="${attr(el.payload)}">${opts}<button class="btn btn-primary" type="submit">${text(el.submitText)}</button></form>`;
    }
    case 'form': {
      const inputs = el.inputs
        .map((i) => {
          const ph = i.placeholder ? ` placeholder="${text(i.placeholder)}"` : '';
          const control = i.multiline
            ? `<textarea name="${escapeHtml(i.name)}"${ph}></textarea>`
            : `<input type="text" name="${escapeHtml(i.name)}"${ph}>`;
          return `<label class="input">${text(i.label)}${control}</label>`;
        })
        .join('');
      return `<form class="form" data-action-id="${escapeHtml(el.actionId)}" data-payload="${attr(el.payload)}">${inputs}<button class="btn btn-primary" type="submit">${text(el.submitText)}</button></form>`;
    }
    case 'chart': {
      const max = Math.max(1, ...el.bars.map((b) => b.value));
      const bars = el.bars
        .map(
          (b) =>
            `<div class="bar"><span class="bar-label">${text(b.label)}</span><span class="bar-fill" style="width:${Math.round((b.value / max) * 100)}%"></span><span class="bar-value">${escapeHtml(String(b.value))}</span></div>`,
        )
        .join('');
      return `<div class="chart">${el.title ? `<div class="chart-title">${text(el.title)}</div>` : ''}${bars}</div>`;
    }
    case 'table':
      return `<table><thead><tr>${el.columns.map((c) => `<th>${text(c)}</th>`).join('')}</tr></thead><tbody>${el.rows
        .map((r) => `<tr>${r.map((c) => `<td>${text(c)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`;
  }
}

/**
 * A viewer section shows the elements of the member looking (`viewer`), or
 * its default; it is marked so the page can show which part is personal.
 */
function cardElement(el: CardElement, viewer: string | undefined): string {
  if (el.type !== 'viewer') return element(el);
  const own = viewer !== undefined && Object.hasOwn(el.byUser, viewer);
  return `<div class="section${own ? ' own' : ''}" data-section="${escapeHtml(el.key)}">${sectionFor(el, viewer).map(element).join('')}</div>`;
}

export function renderCardHtml(card: Card, viewer?: string): string {
  return `<div class="card card-${card.header.colour}"><div class="card-header">${text(card.header.title)}</div><div class="card-body">${card.elements.map((el) => cardElement(el, viewer)).join('')}</div></div>`;
}
