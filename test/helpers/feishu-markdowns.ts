/* eslint-disable @typescript-eslint/no-explicit-any -- Feishu card JSON is walked freely here */
import { createValueSealer } from '../../src/platforms/feishu/crypto.ts';
import { renderFeishuCard } from '../../src/platforms/feishu/render-card.ts';
import type { Card } from '../../src/platforms/types.ts';

/** Every markdown block of a card as Feishu would get it (rendered for a group chat). */
export function feishuMarkdowns(card: Card): string[] {
  const out: string[] = [];
  const walk = (n: any) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    if (n.tag === 'markdown') out.push(n.content);
    Object.values(n).forEach(walk);
  };
  walk(renderFeishuCard(card, createValueSealer('s'), { binding: 'chat:oc_1' }));
  return out;
}
