/** Quiz question bank: import/export problems, the bank command. */
export const quizBank = {
  'bank.usage.verb': '只能是 导入、导出、概况 或 模板',
  'cmd.questions.summary': '题库：查看各标签题数，导入或导出题目文件（Excel、CSV、JSON）',
  'cmd.questions.usage':
    '题库 | 题库 导入（附上文件）[跳过重复] | 题库 导入 入门题库 | 题库 导出 [xlsx|csv|json] [标签] | 题库 模板',

  // problems, one per line
  'bank.problem.line': '第 {line} 行：{problem}',
  'bank.problem.more': '……另有 {count} 处问题未列出，请修改后重新导入。',

  // the file as a whole
  'bank.file.unknown_format':
    '无法识别文件「{name}」的格式，请上传 .xlsx、.csv 或 .json 文件（旧版 .xls 请先另存为 .xlsx）。',
  'bank.file.empty': '文件里没有题目。',
  'bank.file.too_large': '文件太大（超过 {max} MB），请分成几个文件导入。',
  'bank.file.too_many_rows': '题目太多（超过 {max} 道），请分成几个文件导入。',
  'bank.file.xlsx_invalid': '文件不是有效的 Excel（.xlsx）文件，可能已损坏；旧版 .xls 文件请先另存为 .xlsx。',
  'bank.file.csv_invalid': 'CSV 格式有误：{reason}。',
  'bank.file.json_invalid': 'JSON 格式有误：{reason}。',
  'bank.file.json_shape': 'JSON 文件应是一个题目数组，或是含有 questions 数组的对象。',
  'bank.file.missing_columns':
    '表头缺少必需的列：{columns}。第一行应是表头，例如：题型、题干、选项A、选项B、答案、解析、标签、难度、来源。',
  'bank.file.duplicate_column': '表头中「{column}」出现了不止一次。',

  // one question
  'bank.row.not_object': '这一项不是题目对象（应含 type、stem、answer 等字段）。',
  'bank.row.field_type': '「{field}」应为文字。',
  'bank.row.type_missing': '题型为空（可填：单选、多选、判断、填空）。',
  'bank.row.type_unknown': '题型「{value}」无法识别（可填：单选、多选、判断、填空）。',
  'bank.row.stem_missing': '题干为空。',
  'bank.row.too_long': '「{field}」超过 {max} 字。',
  'bank.row.too_many': '「{field}」最多 {max} 个。',
  'bank.row.options_too_few': '选择题至少要有两个选项，这里只有 {count} 个。',
  'bank.row.option_gap': '选项 {empty} 为空，但后面的选项 {next} 有内容。',
  'bank.row.option_duplicate': '选项 {a} 和选项 {b} 内容相同。',
  'bank.row.options_not_allowed': '{type}不设选项，请清空选项列。',
  'bank.row.answer_missing': '没有正确答案（答案为空）。',
  'bank.row.answer_not_letters': '答案「{value}」应为选项字母，例如 B 或 ACD。',
  'bank.row.answer_not_option': '答案 {keys} 不在选项中（本题的选项是 {range}）。',
  'bank.row.single_many': '单选题只能有一个正确答案，这里写了 {value}；如果确有多个正确答案，请把题型改为「多选」。',
  'bank.row.multiple_one': '多选题至少要有两个正确答案，这里只有 {value}；只有一个正确答案请把题型改为「单选」。',
  'bank.row.truefalse_answer': '判断题的答案「{value}」无法识别，请填「对」或「错」。',
  'bank.row.fill_empty_answer': '填空题的参考答案「{value}」去掉标点和空格后为空。',
  'bank.row.difficulty': '难度「{value}」无法识别（可填 1、2、3 或 易、中、难）。',
  'bank.row.duplicate_in_file': '与第 {other} 行是同一道题（题干和选项相同）。',
  'bank.row.duplicate_in_bank': '题库里已有这道题：「{stem}」。',

  // import outcome
  'bank.import.conflict': '导入时另一批题目同时写入了相同的题，本次未导入任何题目，请重新导入。',
  'bank.import.refused': '文件「{name}」有 {count} 处问题，本次未导入任何题目。请修改后重新导入：\n{problems}',
  'bank.import.refused.file': '文件「{name}」无法导入：{problem}',
  'bank.import.refused.duplicates': '如果只想导入题库里还没有的题，请发送「题库 导入 跳过重复」并附上文件。',
  'bank.import.done': '已从「{name}」导入 {imported} 道题，题库现有 {total} 道题。',
  'bank.import.done.skipped': '已跳过题库中已有的 {skipped} 道题。',
  'bank.import.done.repeats': '文件里有 {count} 行与前面的行重复，保留了第一次出现的题，未导入这些行：\n{lines}',
  'bank.import.repeat_line': '第 {line} 行（与第 {other} 行相同）',
  'bank.problem.more_repeats': '……另有 {count} 行重复未列出。',
  'bank.import.no_file':
    '请把题库文件（.xlsx、.csv 或 .json）作为附件和「题库 导入」一起发送。在沙盒页面中，点输入框旁的「📎」选择文件。发送「题库 模板」查看文件格式。',
  'bank.import.many_files': '一次只能导入一个文件，本次收到了 {count} 个。',
  'bank.import.unreadable': '没能读取附件「{name}」，请重新发送。',
  'bank.import.starter_name': '入门题库',

  // export as a download link
  'bank.export.title': '题库导出',
  'bank.export.file_name': '题库',
  'bank.export.download': '下载题库（{format}）',
  'bank.export.done': '已导出题库中的 {count} 道题（含答案和解析），文件可以直接重新导入。',
  'bank.export.done_tag': '已导出标签「{tag}」下的 {count} 道题（含答案和解析），文件可以直接重新导入。',
  'bank.export.empty_tag': '标签「{tag}」下没有题目。发送「题库」查看各标签的题数。',
  'bank.export.one_tag': '一次只能按一个标签导出',
  'bank.export.sent_private': '{name}，题库文件含答案，已私信发给您。',

  // the bank overview card
  'bank.stats.title': '题库概况',
  'bank.stats.total': '题目总数',
  'bank.stats.by_type': '单选 {single} · 多选 {multiple} · 判断 {truefalse} · 填空 {fill}',
  'bank.stats.types': '题型',
  'bank.stats.tag': '标签',
  'bank.stats.count': '题数',
  'bank.stats.untagged': '（无标签）',
  'bank.stats.more_tags': '另有 {tags} 个标签（共 {count} 题次）未列出。',
  'bank.stats.retired': '已停用 {count} 道题，不计入上面的数目。',
  'bank.stats.empty':
    '题库还是空的。发送「题库 导入」并附上 Excel/CSV/JSON 文件导入题目，或发送「题库 导入 入门题库」导入随书香提供的入门题库。',
  'bank.stats.hint': '出题时可以指定标签，例如「出题 10 {tag}」。',

  // the file format help
  'bank.template':
    '题库文件格式（下面附有 Excel 和 CSV 模板，照着示例填写后发送「题库 导入」并附上文件）：\n' +
    '· 题型：单选、多选、判断、填空\n' +
    '· 题干：题目内容\n' +
    '· 选项A ~ 选项H：选择题的选项（至少两个，中间不留空）\n' +
    '· 答案：单选填一个字母（B），多选填几个字母（ACD），判断填 对/错\n' +
    '· 填空的答案：一个空有几种写法都算对时用 | 隔开（1949|1949年）；有几个空就用；隔开各空（全面的；系统的），每空都答对才得分\n' +
    '· 解析、标签（多个用顿号或逗号分隔）、难度（易/中/难）、来源：可选\n' +
    '填空答案比较时忽略全角半角、空格和标点。有问题的行会逐行列出，全部正确才会导入。',
  'bank.template.file_name': '题库模板',
} as const;
