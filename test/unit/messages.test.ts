import { IntlMessageFormat } from 'intl-messageformat';
import { describe, expect, it } from 'vitest';
import { createMessages } from '../../src/bot/messages.ts';
import { sections } from '../../src/messages/zh-CN/index.ts';

describe('message catalogue', () => {
  it('has each key in exactly one section', () => {
    const seen = new Map<string, string>();
    for (const [section, entries] of Object.entries(sections)) {
      for (const key of Object.keys(entries)) {
        expect(seen.get(key), `${key} is in ${seen.get(key)} and ${section}`).toBeUndefined();
        seen.set(key, section);
      }
    }
  });

  it('is valid ICU message syntax throughout', () => {
    for (const entries of Object.values(sections)) {
      for (const [key, text] of Object.entries(entries)) {
        expect(() => new IntlMessageFormat(text, 'zh-CN', undefined, { ignoreTag: true }), key).not.toThrow();
      }
    }
  });

  it('fills parameters', () => {
    expect(createMessages().t('error.forbidden.role', { role: '书记' })).toBe(
      '抱歉，这个命令需要「书记」权限。如需开通，请联系本组织的书记。',
    );
  });
});
