/** Feishu adapter: why a message could not be delivered, and what a card click is told. */
export const feishu = {
  // delivery failures, shown to secretaries (DeliveryError.reasonKey)
  'feishu.delivery.bot_not_in_group': '机器人已不在这个飞书群里，消息无法发送。请把「书香」重新拉进群。',
  'feishu.delivery.chat_dissolved': '这个飞书群已解散，消息无法发送。',
  'feishu.delivery.too_long': '消息内容超过了飞书的长度限制（文本 150 KB、卡片 30 KB），请缩短后重试。',
  'feishu.delivery.no_permission': '飞书应用缺少发送消息所需的权限，请管理员在开发者后台开通权限并发布新版本。',
  'feishu.delivery.bot_disabled': '飞书应用的机器人能力未启用或应用未发布，请管理员检查开发者后台。',
  'feishu.delivery.blocked': '飞书拒绝了这条消息（群设置禁止、成员不在应用可用范围内或被屏蔽）。',
  'feishu.delivery.sensitive': '飞书判定这条消息含有敏感内容，未能发送。',
  'feishu.delivery.bad_card': '卡片内容不符合飞书的格式要求，未能发送。',
  'feishu.delivery.expired': '这条消息已超过飞书允许修改的期限（14 天），无法更新。',
  'feishu.delivery.rejected': '飞书拒绝了这条消息，已停止重试，详情见日志。',

  // card callbacks answered by the adapter itself
  'feishu.card.unknown': '这张卡片已失效，请重新发起。',
  'feishu.card.tampered': '这个按钮的数据无效，请重新发起。',
  'feishu.card.slow': '已收到，正在处理，请稍候。',
  'feishu.card.failed': '抱歉，这次操作没有成功，请稍后再点一次。',
} as const;
