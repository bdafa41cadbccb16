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
  'calendar.created.waits':
    '\n注意：节假日日历还没有 {year} 年的数据，{year}-01-01 起的提醒时间要等这一年的数据导入后才能确定，届时自动继续，不必重新设置。国务院通知发布后，书记发送「节假日 导入」并粘贴通知全文即可。',
  'calendar.created.waiting':
    '已设置提醒（编号 {n}）：{text}\n时间：{when}{to}\n下次时间要等节假日数据导入后才能确定。',
  'calendar.list.waiting': '（等待 {year} 年节假日数据，导入后自动继续）',
  'calendar.once': '{time}（一次）',
  'calendar.list': '本组织的提醒：\n{lines}\n发送「提醒列表 取消 编号」取消一条。',
  'calendar.list.line': '{n}. {when} · {text}{state}\n    发到：{where} · 下次：{next}',
  'calendar.list.stalled': '（已暂停：{reason}）',
  'calendar.list.empty': '本组织还没有提醒。发送「帮助 提醒」查看如何设置。',
  'calendar.cancelled': '已取消提醒（编号 {n}）：{text}\n时间：{when}\n发到：{where}',
  'calendar.cancelled.title': '已取消提醒 {n}',
  'calendar.cancelled.undo': '撤销取消',
  'calendar.cancelled.undo_note': '取消错了？{minutes} 分钟内可点「撤销取消」恢复，编号不变。其他提醒的编号不受影响。',
  'calendar.already_cancelled': '编号 {n} 的提醒（{text}）已经取消过了。发送「提醒列表」查看现有提醒。',
  'calendar.already_over': '编号 {n} 的提醒（{text}）已经结束，不能再取消。',
  'calendar.restored': '已恢复提醒（编号 {n}）：{text}\n下次：{next}',
  'calendar.restored.title': '已恢复提醒 {n}',
  'calendar.restore.already': '提醒 {n} 已经恢复了。',
  'calendar.restore.expired': '已超过 {minutes} 分钟，提醒 {n} 不能再撤销取消。请重新设置。',
  'calendar.restore.passed': '提醒 {n} 的时间已经过了，不能恢复。请重新设置。',
  'calendar.restore.gone': '找不到这条提醒。',
  'calendar.where.chat': '群「{title}」',
  'calendar.where.chat_unknown': '群（机器人已不在该群）',
  'calendar.where.private': '私聊 {names}',
  'calendar.where.someone': '设置人',
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
    '节假日日历还没有 {year} 年的数据，下一个工作日还定不下来。它会等着：国务院通知发布后，发送「节假日 导入」并粘贴通知全文，确认后自动继续，不必重新设置。',
  'calendar.left.reminder': '· 提醒「{text}」（{when}）已取消。恢复：在群里重新发送「提醒 {when} {text}」。',
  'calendar.left.reminder.once': '· 提醒「{text}」（{when}）已取消。恢复：在群里重新发送「提醒 时间 {text}」。',
  'calendar.kind.generic': '定时任务（{kind}）',

  // the holiday calendar (节假日)
  'cmd.holidays.summary':
    '查看某年的节假日安排及数据来源；书记可粘贴国务院通知导入下一年、删除导入的年份、查看导入记录',
  'cmd.holidays.usage':
    '节假日 [年份] | 节假日 导入 [年份] <粘贴国务院通知全文>（或附上 holiday-cn 格式的 JSON 文件）| 节假日 删除 <年份> | 节假日 记录',
  'holidays.usage.year': '请写四位数的年份，例如：节假日 2027',
  'holidays.overview': '节假日日历：\n{lines}\n目前有数据的最后一年：{lastYear} 年。发送「节假日 年份」查看某一年。',
  'holidays.overview.line': '· {year} 年：{source}',
  'holidays.overview.missing': '· {year} 年：还没有数据。国务院通知发布后，书记发送「节假日 导入」并粘贴通知全文即可。',
  'holidays.year.missing':
    '节假日日历还没有 {year} 年的数据。国务院办公厅发布《关于{year}年部分节假日安排的通知》后，书记发送「节假日 导入」并粘贴通知全文即可。',
  'holidays.source.bundled': '内置数据（chinese-days）',
  'holidays.source.imported': '{who} 于 {at} 导入（{source}）',
  'holidays.source.operator': '运维人员（命令行）',
  'holidays.source.notice': '国务院通知',
  'holidays.source.holiday_cn': 'holiday-cn JSON',
  'holidays.card.title': '{year} 年节假日安排',
  'holidays.card.summary': '放假 {off} 天，调休上班 {work} 天（其余日期按周一至周五上班、周末休息）',
  'holidays.card.source': '数据来源',
  'holidays.card.month': '{month}月',
  'holidays.card.col.month': '月份',
  'holidays.card.col.off': '放假',
  'holidays.card.col.work': '调休上班',
  'holidays.card.replaces_bundled': '这一年的导入数据取代了内置数据。删除导入：节假日 删除 {year}（之后改用内置数据）',
  'holidays.card.remove_hint': '如导入有误：节假日 删除 {year}，再重新导入',
  'holidays.preview.title': '{year} 年节假日安排（预览，尚未保存）',
  'holidays.preview.summary': '从{source}读出：放假 {off} 天，调休上班 {work} 天。请逐月核对，无误后点「确认导入」。',
  'holidays.preview.new': '{year} 年目前没有数据；确认后所有工作日相关的提醒和每日一练即可按这一年安排。',
  'holidays.preview.same': '与现有数据（{source}）逐日一致；确认后以这次导入为准。',
  'holidays.preview.replaces': '将取代现有数据（{source}）：新增 {added} 处、去掉 {removed} 处休息或上班安排。',
  'holidays.preview.confirm': '确认导入',
  'holidays.confirm.done':
    '已导入 {year} 年节假日安排：放假 {off} 天，调休上班 {work} 天。各实例几秒内生效；已恢复 {resumed} 项等待这一年数据的定时任务（提醒、每日一练）。',
  'holidays.confirm.toast': '{year} 年节假日安排已导入',
  'holidays.confirm.conflict':
    '没有保存：{year} 年的节假日安排刚被 {who} 于 {at} 导入（与你预览时的数据不同）。发送「节假日 {year}」查看现在的数据；如需更正，请重新导入。',
  'holidays.confirm.conflict_removed': '没有保存：你预览之后，{year} 年导入的数据已被删除。请重新发送「节假日 导入」。',
  'holidays.import.empty':
    '请在「节假日 导入」后面粘贴国务院办公厅《关于某年部分节假日安排的通知》全文，或附上 holiday-cn 格式的 JSON 文件。',
  'holidays.import.many_files': '一次只能导入一个文件，这条消息附了 {count} 个。',
  'holidays.import.too_large': '「{name}」太大了，不像一年的节假日数据（最多 256 KB）。',
  'holidays.import.unreadable': '没能读取附件「{name}」，请重新发送。',
  'holidays.remove.none': '{year} 年没有导入的数据，无需删除。',
  'holidays.remove.bundled':
    '{year} 年用的是内置数据（chinese-days），不能删除；如有更正，请导入这一年的通知，导入的数据会取代内置数据。',
  'holidays.remove.done': '已删除导入的 {year} 年节假日安排。这一年现在没有数据，用到它的定时任务会等待重新导入。',
  'holidays.remove.done_bundled': '已删除导入的 {year} 年节假日安排，这一年恢复使用内置数据。',
  'holidays.audit': '节假日数据的导入和删除记录（最近 20 条）：\n{lines}',
  'holidays.audit.line': '· {at} {who} {action} {year} 年（新增 {added} 处，去掉 {removed} 处）',
  'holidays.audit.action.import': '导入',
  'holidays.audit.action.replace': '重新导入',
  'holidays.audit.action.remove': '删除',
  'holidays.audit.empty': '还没有人导入或删除过节假日数据。',
  // import problems: each names the item and what is wrong; nothing is saved
  'holidays.notice.no_year':
    '没有找到通知的年份。请粘贴通知全文（含标题「关于20XX年部分节假日安排的通知」），或写成：节假日 导入 2027 <通知>',
  'holidays.notice.years_conflict': '通知里出现了不同的年份（{years}），请检查标题和正文。没有保存任何数据。',
  'holidays.notice.other_year': '你要导入的是 {named} 年，但这份通知是 {notice} 年的。没有保存任何数据。',
  'holidays.notice.no_items': '没有读到任何放假安排。通知的每一项应写成「一、元旦：1月1日放假……」。没有保存任何数据。',
  'holidays.notice.item_without_days': '{item}没有读到放假日期，请检查这一项的写法。没有保存任何数据。',
  'holidays.notice.bad_date': '{item}：「{date}」不是存在的日期。没有保存任何数据。',
  'holidays.notice.weekday':
    '{item}：{year} 年{date}是{actual}，通知里写的是{written}。请检查年份或日期。没有保存任何数据。',
  'holidays.notice.backwards': '{item}：放假从{from}到{to}，结束日期早于开始日期。没有保存任何数据。',
  'holidays.notice.workday_not_weekend':
    '{item}：调休上班的{date}是{weekday}，本来就是工作日，调休上班日应在周末。没有保存任何数据。',
  'holidays.notice.count': '{item}：写的是共 {written} 天，按日期算是 {counted} 天。没有保存任何数据。',
  'holidays.notice.twice': '{item}：{date} 已在{other}中出现过。没有保存任何数据。',
  'holidays.notice.outside_year': '{item}：{date} 不在 {year} 年内。没有保存任何数据。',
  'holidays.notice.unreadable':
    '{item}：没看懂「{sentence}」。放假应写成「1月1日至3日放假」，调休上班写成「1月4日（周日）上班」。没有保存任何数据。',
  'holidays.json.not_json':
    '附件不是有效的 JSON。holiday-cn 格式：year 为年份，days 为日期列表，每项有 name（节日）、date（YYYY-MM-DD）、isOffDay（是否放假）。没有保存任何数据。',
  'holidays.json.shape':
    'JSON 格式不对（{path}）。holiday-cn 格式：year 为年份，days 为日期列表，每项有 name（节日）、date（YYYY-MM-DD）、isOffDay（是否放假）。没有保存任何数据。',
  'holidays.json.bad_date': '{item}：「{date}」不是有效的日期（应为 YYYY-MM-DD）。没有保存任何数据。',
  'holidays.json.twice': '{item}：{date} 出现了两次。没有保存任何数据。',
  // the year-end notice to secretaries
  'holidays.notice.weekly':
    '节假日日历还没有 {year} 年的数据。{plans}\n国务院办公厅发布《关于{year}年部分节假日安排的通知》后（通常在 11 月），请把通知全文发给我：\n节假日 导入 （粘贴通知全文）\n核对预览后点「确认导入」，以上计划自动继续，不必重新设置。也可以附上 holiday-cn 格式的 {year}.json 发送「节假日 导入」。数据导入前，每周提醒一次。',
  'holidays.notice.plans': '以下计划按工作日安排，{year} 年 1 月起将暂停：\n{lines}',
  'holidays.notice.no_plans':
    '本组织目前没有按工作日安排的计划，但 {year} 年新设置的按工作日计算的提醒和每日一练都需要这些数据。',
  'holidays.notice.plan.reminder': '· 提醒「{text}」（{when}）',
  'holidays.notice.plan.daily': '· 每日一练（每个工作日 {time}）',
  'holidays.notice.plan.other': '· 定时任务 {kind}（{when}）',

  // fixed activities of the year (日历) and the tracked red-base visits (活动)
  'cmd.calendar.summary':
    '本年度的固定活动（主题党日、集中学习、现场教学、廉政教育日）及下次时间；书记一条命令开启或调整',
  'cmd.calendar.usage':
    '日历 | 日历 开启 <活动> [时间]，例如：日历 开启 主题党日；日历 开启 集中学习 每周三 15:00 | 日历 关闭 <活动>',
  'cmd.activity.summary': '登记和查看去红色教育基地的活动（每个支部每年至少两次）',
  'cmd.activity.usage': '活动 | 活动 记录 红色教育基地 <日期> <地点>，例如：活动 记录 红色教育基地 2027-04-12 沙洲村',
  'activity.organisation_life.text':
    '本月主题党日（组织生活日“3+5”）。三项固定动作：重温入党誓词、集中缴纳党费、学习政策文件；五项自选动作：学习讨论、讲党课上讲台、集体过政治生日、党员培训、主题党日活动',
  'activity.group_study.text': '本周集中学习，请准时参加',
  'activity.on_site_teaching.text': '本季度现场教学（初心四季歌），请确定地点并通知全体党员',
  'activity.integrity_day.text': '廉政教育日：签订党风廉政责任状、承诺书，主要领导上廉政党课、作集体谈话',
  'activity.title': '{year} 年固定活动',
  'activity.col.name': '活动',
  'activity.col.when': '时间',
  'activity.col.next': '下次',
  'activity.off': '未开启',
  'activity.switch_on': '发送「日历 开启 {name}」',
  'activity.waiting': '等待 {year} 年节假日数据',
  'activity.stalled': '已暂停（见提醒列表）',
  'activity.hint': '开启或调整：日历 开启 主题党日 [时间]；关闭：日历 关闭 主题党日。开启后也会出现在「提醒列表」里。',
  'activity.usage.name': '请写活动名称：主题党日、集中学习、现场教学 或 廉政教育日，例如：日历 开启 主题党日',
  'activity.unknown': '没有叫「{name}」的固定活动。可以开启的有：{names}。',
  'activity.not_on': '「{name}」还没有开启。',
  'activity.switched_off': '已关闭固定活动「{name}」的提醒。',
  'activity.red_base.label': '{year} 年红色教育基地',
  'activity.red_base.count': '{done}/{quota} 次',
  'activity.red_base.line': '· {date} {place}',
  'activity.red_base.summary':
    '{year} 年去红色教育基地：{done}/{quota} 次（每个支部每年至少 {quota} 次）{lines}\n登记：活动 记录 红色教育基地 日期 地点',
  'activity.usage.record': '请写活动、日期和地点，例如：活动 记录 红色教育基地 2027-04-12 沙洲村',
  'activity.record.kind':
    '目前只登记「红色教育基地」的活动，「{kind}」不在其中。例如：活动 记录 红色教育基地 2027-04-12 沙洲村',
  'activity.record.date': '「{date}」不是有效的日期，请写成 年-月-日（例如 2027-04-12），或 今天、昨天',
  'activity.record.future': '{date} 还没到，请在活动之后再登记。',
  'activity.record.done': '已登记：{date} {place}。{year} 年红色教育基地 {done}/{quota} 次。',
  'activity.red_base.behind':
    '{year} 年本支部去红色教育基地的活动目前 {done}/{quota} 次，要求每年至少 {quota} 次。请在第四季度前安排；活动后发送「活动 记录 红色教育基地 日期 地点」登记。',

  // dead letters
  'outbox.dead.list': '以下消息多次发送失败，已停止重试：\n{lines}\n发送「发送失败 重试 编号」重新发送。',
  'outbox.dead.line': '{n}. {time} → {target}：{preview}\n    原因：{error}',
  'outbox.dead.empty': '没有发送失败的消息。',
  'outbox.dead.retried': '已重新排队发送第 {n} 条消息。',
  'outbox.dead.not_dead': '第 {n} 条消息已经重新发送过了。发送「发送失败」查看现在的失败消息。',
  'outbox.dead.no_such': '没有编号为 {n} 的失败消息。发送「发送失败」查看编号。',
  'outbox.dead.notice':
    '有消息多次发送失败，已停止重试（{reason}）。发送「发送失败」查看并重新发送；一小时内不再重复通知。',
  'outbox.dead.notice.generic': '平台多次拒绝或无法连接',
  'outbox.target.chat': '群 {id}',
  'outbox.target.user': '私聊 {id}',
} as const;
