/** Reminders, the schedule parser, missed/stalled reports and failed deliveries. */
export const calendar = {
  'calendar.usage.spec_required': '请写上时间和内容',
  'calendar.missed.times_more': '{times} 等 {count} 次',
  'calendar.missed.more': '……',
  // commands
  'cmd.remind.summary': '设置提醒：一次性或周期性（每天、每个工作日、每周、每月、每季度、每年），可@人，可私聊发送',
  'cmd.remind.usage':
    '提醒 [私聊] <时间> <内容> [@某人]，例如：提醒 每月最后一个工作日 17:00 提交本月学习记录；提醒 周一 09:00 集中研学；提醒 私聊 明天 15:00 交心得 @李明',
  'cmd.reminders.summary': '查看本组织的提醒，或取消其中一条',
  'cmd.reminders.usage': '提醒列表 | 提醒列表 取消 <编号>',
  'cmd.outbox.summary': '查看多次发送失败、已停止重试的消息，或重新发送',
  'cmd.outbox.usage': '发送失败 | 发送失败 重试 <编号>',

  // parser problems (each says what is wrong and shows an example)
  'calendar.parse.unknown':
    '没看懂「{input}」是什么时间。例如：\n· 提醒 每周一 09:00 集中研学\n· 提醒 每月最后一个工作日 17:00 提交本月学习记录\n· 提醒 明天 下午3点 开支委会\n· remind every monday 9am group study',
  'calendar.parse.bad_weekday':
    '「{word}」不是星期几，请写 周一 到 周日（或 monday 到 sunday），例如：提醒 每周三 09:00 集中研学',
  'calendar.parse.bad_time':
    '「{input}」不是有效的时刻，时刻应在 00:00 到 23:59 之间，例如：提醒 每天 17:30 填写学习记录',
  'calendar.parse.bad_day':
    '「{day}」不是有效的日期，例如：提醒 每月15日 09:00 主题党日；提醒 每月最后一天 17:00 交材料',
  'calendar.parse.past': '{when} 已经过去了，请写一个将来的时间，例如：提醒 明天 09:00 集中研学',
  'calendar.parse.no_text': '请写上提醒的内容，例如：提醒 每周一 09:00 集中研学',
  'calendar.parse.never':
    '「{rule}」永远不会到来，请换一个日期，例如：提醒 每年3月5日 09:00 学雷锋纪念日；提醒 每月最后一天 17:00 交材料',
  'calendar.bad_timezone': '「{tz}」不是有效的时区，请写 IANA 时区名，例如：--tz Asia/Shanghai',
  'calendar.no_holiday_data':
    '节假日日历目前只有到 {lastYear} 年的数据，还不能确定 {year} 年的工作日，所以无法安排这个按工作日计算的提醒。请等日历数据更新后再设置，或改用不依赖工作日的时间（例如 每周一 09:00）。',
  'calendar.too_long': '提醒内容太长了：发送后共 {length} 字，这个平台一条消息最多 {max} 字。请缩短后再设置。',
  'calendar.private_needs_target': '私聊提醒请@要提醒的人，或在与我的私聊中设置给自己的提醒。',

  // confirmations and lists
  'calendar.created': '已设置提醒（编号 {n}）：{text}\n时间：{when}{to}\n接下来三次：\n{next}',
  'calendar.created.once': '已设置提醒（编号 {n}）：{text}\n时间：{when}{to}',
  'calendar.created.to_private': '\n发送：私聊 {names}',
  'calendar.created.mentions': '\n@：{names}',
  'calendar.created.data_note':
    '\n注意：节假日日历目前只有到 {lastYear} 年的数据，之后的工作日要等数据更新；到时如仍无数据，我会提醒书记。',
  'calendar.once': '{time}（一次）',
  'calendar.list': '本组织的提醒：\n{lines}\n发送「提醒列表 取消 编号」取消一条。',
  'calendar.list.line': '{n}. {when} · {text}{state}\n    下次：{next}',
  'calendar.list.stalled': '（已暂停：{reason}）',
  'calendar.list.empty': '本组织还没有提醒。发送「帮助 提醒」查看如何设置。',
  'calendar.cancelled': '已取消提醒 {n}：{text}',
  'calendar.no_such': '没有编号为 {n} 的提醒。发送「提醒列表」查看编号。',

  // what is sent
  'calendar.reminder.text': '⏰ 提醒：{text}',
  'calendar.reminder.late': '⏰ 提醒（补发，原定 {due}）：{text}',

  // reports to secretaries
  'calendar.missed':
    '系统停机期间有 {count} 项定时任务错过了补发时限（{graceHours} 小时），未发送：\n{lines}\n如仍需要，请重新发送或调整时间。',
  'calendar.missed.line': '· {what}：原定 {times}',
  'calendar.stalled': '定时任务「{what}」已暂停：{reason}',
  'calendar.stalled.no_data':
    '节假日日历没有 {year} 年的数据，无法确定下一个工作日。请更新日历数据后重新设置，或改用不依赖工作日的时间。',
  'calendar.left.reminder': '· 提醒「{text}」（{when}）已取消。恢复：在群里重新发送「提醒 {when} {text}」。',
  'calendar.left.reminder.once': '· 提醒「{text}」（{when}）已取消。恢复：在群里重新发送「提醒 时间 {text}」。',
  'calendar.kind.generic': '定时任务（{kind}）',

  // dead letters
  'outbox.dead.list': '以下消息多次发送失败，已停止重试：\n{lines}\n发送「发送失败 重试 编号」重新发送。',
  'outbox.dead.line': '{n}. {time} → {target}：{preview}\n    原因：{error}',
  'outbox.dead.empty': '没有发送失败的消息。',
  'outbox.dead.retried': '已重新排队发送第 {n} 条消息。',
  'outbox.dead.no_such': '没有编号为 {n} 的失败消息。发送「发送失败」查看编号。',
  'outbox.dead.notice':
    '有消息多次发送失败，已停止重试（{reason}）。发送「发送失败」查看并重新发送；一小时内不再重复通知。',
  'outbox.dead.notice.generic': '平台多次拒绝或无法连接',
  'outbox.target.chat': '群 {id}',
  'outbox.target.user': '私聊 {id}',
} as const;
