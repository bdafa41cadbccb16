import { plainText, renderMarked, safeMarkup } from '../text.ts';
import { cardForViewer, type Card, type SectionElement } from '../types.ts';
import type { ValueSealer } from './crypto.ts';

/**
 * The neutral card rendered to Feishu card JSON 2.0. 2.0 cards are always
 * shared (`update_multi: true`): an update is seen by everyone, so per-person
 * feedback goes in a toast, never in the card.
 *
 * Viewer sections: a card in a group shows everyone the `default` elements
 * (including a callback's replacement card, which Feishu shows to the whole
 * chat too). `viewer` is passed only where one person sees the card — a card
 * sent to a member privately, or clicked in a private chat — and then that
 * member's own section is shown.
 */
export type FeishuCardJson = Record<string, unknown>;

/** What a button's callback value carries: action id, payload, and the seal over both. */
export interface ButtonValue {
  a: string;
  p: Record<string, unknown>;
  s: string;
}

/** plain_text shows what it holds; only marks, bidi overrides and excess length are taken out. */
const plain = (content: string, max?: number) => ({ tag: 'plain_text', content: plainText(content, max) });

/**
 * Feishu wants every component name unique in the whole card, but a daily card
 * has one form per question and every form's field is called "c". Names are
 * prefixed with the form's number here and the prefix is taken off again when
 * the form comes back (formValuesFromFeishu), so the neutral card keeps its names.
 */
function fieldName(form: number, name: string): string {
  return `f${form}_${name}`;
}

export function formValuesFromFeishu(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) out[k.replace(/^f\d+_/, '')] = v;
  return out;
}

const BUTTON_TYPE = { primary: 'primary', default: 'default', danger: 'danger' } as const;

export interface RenderOptions {
  /**
   * Where the card goes (sealBinding of its target): every seal on it is bound there.
   * Without one (a rendering looked at, never sent) the seals verify nowhere.
   */
  binding: string;
  /** The one member who sees the card (a private chat), whose own sections are shown. */
  viewer?: string;
}

export function renderFeishuCard(
  card: Card,
  sealer: ValueSealer,
  opts: RenderOptions = { binding: 'unsent' },
): FeishuCardJson {
  const shown = cardForViewer(card, opts.viewer);
  let forms = 0;
  const value = (actionId: string, payload: Record<string, unknown>): ButtonValue => ({
    a: actionId,
    p: payload,
    s: sealer.seal(actionId, payload, opts.binding),
  });
  const callback = (actionId: string, payload: Record<string, unknown>) => [
    { type: 'callback', value: value(actionId, payload) },
  ];

  function render(el: SectionElement): Record<string, unknown>[] {
    switch (el.type) {
      case 'markdown':
        return [{ tag: 'markdown', content: feishuMarkdown(el.text) }];
      case 'note':
        return [{ tag: 'markdown', content: feishuMarkdown(el.text), text_size: 'notation' }];
      case 'divider':
        return [{ tag: 'hr' }];
      case 'fields': {
        // Two fields side by side per row, as Feishu's own cards lay out key-value pairs.
        const rows: Record<string, unknown>[] = [];
        for (let i = 0; i < el.fields.length; i += 2) {
          rows.push({
            tag: 'column_set',
            flex_mode: 'bisect',
            horizontal_spacing: '8px',
            columns: el.fields.slice(i, i + 2).map((f) => ({
              tag: 'column',
              width: 'weighted',
              weight: 1,
              elements: [
                {
                  tag: 'markdown',
                  content: `**${escapeFeishuText(plainText(f.label))}**\n${escapeFeishuText(plainText(f.value))}`,
                },
              ],
            })),
          });
        }
        return rows;
      }
      case 'buttons':
        return [
          {
            tag: 'column_set',
            flex_mode: 'flow',
            horizontal_spacing: '8px',
            columns: el.buttons.map((b) => ({
              tag: 'column',
              width: 'auto',
              elements: [
                {
                  tag: 'button',
                  text: plain(b.text, 100),
                  type: BUTTON_TYPE[b.style],
                  behaviors: callback(b.actionId, b.payload),
                },
              ],
            })),
          },
        ];
      case 'link':
        // open_url opens the link in the client's browser, which downloads the file; no callback.
        return [
          {
            tag: 'button',
            text: plain(el.text, 100),
            type: BUTTON_TYPE[el.style],
            behaviors: [{ type: 'open_url', default_url: el.url }],
          },
        ];
      case 'choice': {
        const n = forms++;
        return [
          {
            tag: 'form',
            name: `form_${n}`,
            elements: [
              {
                tag: el.multiple ? 'multi_select_static' : 'select_static',
                name: fieldName(n, el.name),
                required: true,
                width: 'fill',
                options: el.options.map((o) => ({ text: plain(o.text), value: o.value })),
              },
              {
                tag: 'button',
                name: `submit_${n}`,
                text: plain(el.submitText, 100),
                type: 'primary',
                form_action_type: 'submit',
                behaviors: callback(el.actionId, el.payload),
              },
            ],
          },
        ];
      }
      case 'form': {
        const n = forms++;
        return [
          {
            tag: 'form',
            name: `form_${n}`,
            elements: [
              ...el.inputs.map((input) => ({
                tag: 'input',
                name: fieldName(n, input.name),
                label: plain(input.label),
                label_position: 'top',
                ...(input.placeholder ? { placeholder: plain(input.placeholder) } : {}),
                ...(input.multiline ? { input_type: 'multiline_text', rows: 4 } : {}),
                width: 'fill',
              })),
              {
                tag: 'button',
                name: `submit_${n}`,
                text: plain(el.submitText, 100),
                type: 'primary',
                form_action_type: 'submit',
                behaviors: callback(el.actionId, el.payload),
              },
            ],
          },
        ];
      }
      case 'chart':
        return [
          {
            tag: 'chart',
            aspect_ratio: '16:9',
            color_theme: 'brand',
            chart_spec: {
              type: 'bar',
              ...(el.title ? { title: { text: plainText(el.title) } } : {}),
              data: { values: el.bars.map((b) => ({ label: plainText(b.label), value: b.value })) },
              xField: 'label',
              yField: 'value',
              label: { visible: true },
            },
          },
        ];
      case 'table':
        return [
          {
            tag: 'table',
            page_size: Math.min(10, Math.max(1, el.rows.length)),
            row_height: 'low',
            header_style: { bold: true, background_style: 'grey' },
            columns: el.columns.map((c, i) => ({
              name: `c${i}`,
              display_name: plainText(c),
              data_type: 'text',
              width: 'auto',
            })),
            rows: el.rows.map((r) => Object.fromEntries(el.columns.map((_, i) => [`c${i}`, plainText(r[i] ?? '')]))),
          },
        ];
    }
  }

  return {
    schema: '2.0',
    config: { update_multi: true, width_mode: 'fill', summary: { content: plainText(card.header.title) } },
    header: { title: plain(card.header.title), template: card.header.colour },
    body: { direction: 'vertical', vertical_spacing: '8px', elements: shown.elements.flatMap(render) },
  };
}

/**
 * Feishu card markdown (lark_md) takes HTML character references for the
 * characters it would read as syntax. Member text is shown literally: every
 * character that could start a mention tag (`<at id=all>`), HTML, emphasis,
 * a link or image, a heading, a list, a table or an autolink is written as
 * a reference.
 */
const FEISHU_REFS: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '*': '&#42;',
  _: '&#95;',
  '~': '&#126;',
  '`': '&#96;',
  '[': '&#91;',
  ']': '&#93;',
  '(': '&#40;',
  ')': '&#41;',
  '#': '&#35;',
  '!': '&#33;',
  '|': '&#124;',
  '\\': '&#92;',
  $: '&#36;',
};

/** Member or plain text for a Feishu markdown component: shown as typed. */
export function escapeFeishuText(s: string): string {
  return s
    .replace(/[&<>*_~`[\]()#!|\\$]/g, (c) => FEISHU_REFS[c]!)
    .replace(/^(\s*)([-+])/gm, (_, sp: string, c: string) => `${sp}&#${c.charCodeAt(0)};`)
    .replace(/^(\s*\d+)\./gm, '$1&#46;')
    .replace(/:\/\//g, '&#58;//');
}

/** A markdown or note text: the bot's markup with member spans shown literally. */
export function feishuMarkdown(text: string): string {
  return renderMarked(text, { member: escapeFeishuText, markup: safeMarkup });
}

/** Feishu's own limits on a card: 30 KB of JSON and at most 200 components. */
export const CARD_MAX_BYTES = 30 * 1024;
