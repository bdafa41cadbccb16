import { IntlMessageFormat } from 'intl-messageformat';
import { zhCN } from '../messages/zh-CN/index.ts';

export { zhCN };

/**
 * Every user-facing string, in Simplified Chinese, by key (src/messages/zh-CN).
 * ICU message syntax ({name}, plurals, selects) through intl-messageformat.
 */
export type MessageKey = keyof typeof zhCN;
export type MessageParams = Record<string, string | number | Date>;

export interface Messages {
  t(key: MessageKey, params?: MessageParams): string;
  has(key: string): key is MessageKey;
}

export function createMessages(catalogue: Record<MessageKey, string> = zhCN): Messages {
  const compiled = new Map<string, IntlMessageFormat>();
  return {
    t(key, params) {
      let fmt = compiled.get(key);
      if (!fmt) {
        fmt = new IntlMessageFormat(catalogue[key], 'zh-CN', undefined, { ignoreTag: true });
        compiled.set(key, fmt);
      }
      return String(fmt.format(params ?? {}));
    },
    has(key): key is MessageKey {
      return key in catalogue;
    },
  };
}
