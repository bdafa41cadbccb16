import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  PRIVATE_SECTION_KEYS,
  createParamSigner,
  renderPrivateResult,
  renderTemplateParams,
} from '../../src/platforms/dingtalk/render-card.ts';
import { cardSchema } from '../../src/platforms/types.ts';

const template = JSON.parse(
  readFileSync(new URL('../../cards/dingtalk/shuxiang-generic.template.json', import.meta.url), 'utf8'),
) as { variables: { name: string; private: boolean; items?: Record<string, unknown> }[] };

describe('the DingTalk card template in cards/dingtalk/', () => {
  it('declares exactly the variables the bot fills, with the result line private', () => {
    const card = cardSchema.parse({
      header: { title: 't' },
      elements: [{ type: 'buttons', buttons: [{ text: 'b', actionId: 'x.y', payload: { v: 1 } }] }],
    });
    const params = renderTemplateParams(card, {
      outTrackId: 'o',
      signer: createParamSigner('s'),
      hint: { code: 'abcd' },
    });
    const publicNames = template.variables.filter((v) => !v.private).map((v) => v.name);
    const privateNames = template.variables.filter((v) => v.private).map((v) => v.name);
    expect(new Set(publicNames)).toEqual(new Set(Object.keys(params)));
    expect(new Set(privateNames)).toEqual(
      new Set([...Object.keys(renderPrivateResult({ kind: 'info', text: 'x' })), ...PRIVATE_SECTION_KEYS]),
    );
    const button = (JSON.parse(params.buttons!) as Record<string, unknown>[])[0]!;
    for (const list of ['buttons', 'sectionButtons', 'mySectionButtons']) {
      const items = template.variables.find((v) => v.name === list)!.items!;
      expect(new Set(Object.keys(items)), list).toEqual(new Set(Object.keys(button)));
    }
  });
});
