/** Core bot messages: errors, help, roles. */
export const core = {
  // generic
  'error.apology': '抱歉，处理这条消息时出了点问题，已记录下来，请稍后再试。',
  'error.forbidden.role': '抱歉，这个命令需要「{role}」权限。如需开通，请联系本组织的书记。',
  'error.scope.group': '这个命令只能在群聊里使用。',
  'error.scope.direct': '这个命令只能在与我的私聊中使用。',
  'error.usage': '命令格式不对：{problem}\n用法：{usage}',
  'error.usage.extra': '多了参数「{words}」',
  'error.usage.bad_value': '「{value}」不符合要求',
  'error.usage.missing': '少写了必要的内容',
  'error.usage.subcommand': '请写明要做什么：{names}',
  'error.form.invalid': '填写的内容不对：{problem}',
  'form.too_short': '内容太短了，请多写几个字',
  'usage.number_required': '编号应是数字',
  'usage.number_positive': '编号应是正整数',
  'error.unknown_command': '没有「{name}」这个命令。{suggestion}发送「帮助」查看全部命令。',
  'error.unknown_command.suggest': '您是不是想输入：{names}？',
  'error.action.unknown': '这个按钮已失效，请重新发起。',
  'error.action.payload': '这个按钮的数据无效，请重新发起。',
  'error.unbalanced_quote': '引号没有配对，请检查后重新输入。',
  'error.not_member': '您还不是本组织的成员，请联系书记把您加入。',
  'error.chat_unknown': '这个群还没有登记到任何组织，请书记先完成设置。',
  'role.secretary': '书记',
  'role.member': '成员',
  'hint.empty': '您好，我是书香学习助手。发送「帮助」查看我能做什么。',

  // help
  'help.title': '书香 · 命令列表',
  'help.intro': '在群里@我，或在私聊中直接发送命令。中英文命令均可。',
  'help.section.all': '所有成员',
  'help.section.secretary': '书记专用',
  'help.footer': '发送「帮助 命令名」查看某个命令的详细用法，例如「帮助 管理员」。',
  'help.detail': '{names}\n{summary}\n用法：{usage}{roleLine}',
  'help.detail.role': '\n权限：{role}',
  'help.detail.subcommands': '\n子命令：{names}',
  'help.unknown': '没有找到「{name}」这个命令。发送「帮助」查看全部命令。',

  // commands: summaries and usage lines
  'cmd.help.summary': '查看命令列表，或某个命令的用法',
  'cmd.help.usage': '帮助 [命令名]',
  'cmd.whoami.summary': '查看我的身份、所在单位和权限',
  'cmd.whoami.usage': '我是谁',
  'cmd.admin.summary': '管理书记（管理员）：添加、移除、列表',
  'cmd.admin.usage': '管理员 添加 @某人 | 管理员 移除 @某人 | 管理员 列表',

  // delivery
  'delivery.dead': '有一条消息多次发送失败，已停止重试：{reason}',

  // the bot left a group (removed, or the group dissolved): a private notice to the secretaries
  'chat.left.notice':
    '书香学习助手已被移出群「{title}」（或该群已解散），在该群运行的以下内容已暂停，不会再推送：\n{lines}\n如需恢复：先把机器人重新拉回群里，再在群里按上面的说明重新开启。',
  'chat.left.notice.nothing':
    '书香学习助手已被移出群「{title}」（或该群已解散）。该群没有正在运行的每日一练或提醒，无需处理。',

  // demo
  'demo.org': '示范党支部',
} as const;
