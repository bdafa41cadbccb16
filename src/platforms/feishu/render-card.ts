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

const plain = (content: string) => ({ tag: 'plain_text', content });

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
  /** Where the card goes (sealBinding of its target): every seal on it is bound there. */
  binding: string;
  /** The one member who sees the card (a private chat), whose own sections are shown. */
  viewer?: string;
}

export function renderFeishuCard(card: Card, sealer: ValueSealer, opts: RenderOptions): FeishuCardJson {
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
        return [{ tag: 'markdown', content: el.text }];
      case 'note':
        return [{ tag: 'markdown', content: el.text, text_size: 'notation' }];
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
              elements: [{ tag: 'markdown', content: `**${escapeMd(f.label)}**\n${f.value}` }],
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
                  text: plain(b.text.slice(0, 100)),
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
            text: plain(el.text.slice(0, 100)),
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
                text: plain(el.submitText.slice(0, 100)),
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
                text: plain(el.submitText.slice(0, 100)),
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
              ...(el.title ? { title: { text: el.title } } : {}),
              data: { values: el.bars.map((b) => ({ label: b.label, value: b.value })) },
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
            columns: el.columns.map((c, i) => ({ name: `c${i}`, display_name: c, data_type: 'text', width: 'auto' })),
            rows: el.rows.map((r) => Object.fromEntries(el.columns.map((_, i) => [`c${i}`, r[i] ?? '']))),
          },
        ];
    }
  }

  return {
    schema: '2.0',
    config: { update_multi: true, width_mode: 'fill', summary: { content: card.header.title } },
    header: { title: plain(card.header.title), template: card.header.colour },
    body: { direction: 'vertical', vertical_spacing: '8px', elements: shown.elements.flatMap(render) },
  };
}

function escapeMd(s: string): string {
  return s.replace(/([*_~`])/g, '\\$1');
}

/** Feishu's own limits on a card: 30 KB of JSON and at most 200 components. */
export const CARD_MAX_BYTES = 30 * 1024;
