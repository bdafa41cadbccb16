/** Organisation, members and roles. */
export const org = {
  // org
  'whoami.text': '{name}，您好！\n单位：{unit}\n身份：{role}\n平台：{platform}',
  'whoami.no_unit': '未分配',
  'admin.need_mention': '请@要设置的人，例如：管理员 添加 @李明',
  'admin.added': '已将 {names} 设为书记。',
  'admin.already': '{names} 已经是书记了。',
  'admin.removed': '已取消 {names} 的书记权限。',
  'admin.not_admin': '{names} 不是由命令添加的书记，无需移除。',
  'admin.cannot_remove_config': '{names} 是配置文件（SHUXIANG_ADMINS）中的书记，只能在配置中移除。',
  'admin.cannot_remove_self': '不能移除自己的书记权限，请让另一位书记操作。',
  'admin.list': '本组织的书记：\n{lines}',
  'admin.list.empty': '本组织还没有书记。',
  'admin.list.config': '（配置）',
} as const;
