/** Files the bot hands out (test results, bank exports, yearbooks): file messages and download links. */
export const files = {
  'files.link_note': '下载链接 {days} 天内有效，知道链接的人都能下载，请勿转发给无关人员。',
  'files.no_public_url':
    '文件已生成，但机器人还没有配置公网地址（SHUXIANG_PUBLIC_URL），在这里无法提供下载链接。请联系管理员配置后重新导出。',
  'files.too_large': '文件太大（{size} MB），超过了下载文件 {limit} MB 的上限，无法生成下载链接。',
  'files.fallback_link': '《{name}》下载：{url}\n下载链接 {days} 天内有效，知道链接的人都能下载，请勿转发给无关人员。',
  'files.fallback_no_link':
    '《{name}》无法在这里直接发送，机器人也还没有配置公网地址（SHUXIANG_PUBLIC_URL），无法提供下载链接。请联系管理员。',
  'files.too_large_to_send': '《{name}》太大（{size} MB），超过了文件 {limit} MB 的上限，无法发送。',
} as const;
