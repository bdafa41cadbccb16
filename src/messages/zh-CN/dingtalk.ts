/** DingTalk: delivery failures, card text commands and the API quota. */
export const dingtalk = {
  // why a message could not be delivered (DeliveryError reason keys)
  'dingtalk.error.quota': '本月钉钉接口调用额度已用完，消息无法发出。可在钉钉管理后台升级版本，或等到下月额度恢复。',
  'dingtalk.error.chat_gone': '机器人已不在该群（或群已解散），消息无法送达。',
  'dingtalk.error.user_unreachable': '该成员无法接收机器人的单聊消息（不在本组织，或机器人尚未对其可见）。',
  'dingtalk.error.permission': '钉钉应用缺少发送权限，请管理员在开发者后台开通相应权限（如 Card.Instance.Write）。',
  'dingtalk.error.rejected': '钉钉拒绝了这条消息。',

  // text commands standing in for card buttons
  'dingtalk.card_command.no_card': '没有找到编号为 {code} 的卡片，可能已过期。',
  'dingtalk.card_command.no_button': '卡片 {code} 上没有第 {n} 项操作。',
  'dingtalk.card_command.choose': '请写上选项（可选：{values}），例如：按 {code} {n} {first}',
  'dingtalk.card_command.form': '请按顺序填写：按 {code} {n} {inputs}（多项用 | 分隔）',

  // quota command
  'cmd.quota.summary': '查看本月钉钉接口调用额度（书记）',
  'cmd.quota.usage': '额度',
  'quota.none': '本组织还没有接入钉钉，没有接口额度可看。',
  'quota.report':
    '钉钉接口额度（{month}）\n已用：{used} / {limit} 次（{percent}%）\n剩余：{left} 次\n按目前速度，月底预计用到 {projected} 次{warning}\n\n明细：\n{lines}\n\n会话内回复（sessionWebhook）另计 {free} 次，一般不占额度。',
  'quota.report.line': '· {api}：{calls} 次{errors}',
  'quota.report.errors': '（失败 {errors}）',
  'quota.report.empty': '· 本月还没有调用',
  'quota.report.over': '，可能超出额度！',
  'quota.api.robot.groupSend': '群消息',
  'quota.api.robot.otoBatchSend': '单聊消息',
  'quota.api.card.createAndDeliver': '互动卡片发送',
  'quota.api.card.update': '互动卡片更新',
  'quota.api.robot.fileDownload': '文件下载',
  'quota.warning':
    '提醒：本组织本月已使用钉钉接口 {used} 次，达到额度 {limit} 次的 {level}%。额度用完后机器人将无法发消息，直到下月。可发送「额度」查看明细。',
} as const;
