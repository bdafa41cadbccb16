import { z } from 'zod';
import { defineCommand, defineSubcommand } from '../../../bot/commands.ts';
import { offerDownload, safeFileName, XLSX_CONTENT_TYPE } from '../../../bot/downloads.ts';
import type { CommandContext } from '../../../bot/context.ts';
import { UserError } from '../../../bot/errors.ts';
import { defineFeature, type Feature, type FeatureDeps } from '../../../bot/feature.ts';
import { quizBank } from '../../../messages/zh-CN/quiz-bank.ts';
import type { Card } from '../../../platforms/types.ts';
import { FORMATS, MAX_IMPORT_BYTES, type BankFormat } from './file-format.ts';
import { renderProblems } from './problems.ts';
import { createQuestionBank, type ImportResult } from './repository.ts';
import { importStarterBank } from './starter-bank.ts';
import { bankTemplateFiles } from './template.ts';

const SKIP = ['跳过重复', '跳过', 'skip', 'skip-duplicates'];
const STARTER = ['入门题库', '入门', 'starter'];

const CONTENT_TYPES: Record<BankFormat, string> = {
  xlsx: XLSX_CONTENT_TYPE,
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

/** How many tags the overview card lists. */
const MAX_TAGS_ON_CARD = 30;

/** How many problems a chat reply lists; the rest are counted. */
const MAX_PROBLEMS_IN_CHAT = 20;

/**
 * `题库` / `questions`: the bank's size per tag, imports from a file
 * attached to the message (or the shipped starter bank), and exports as a
 * download link. Secretaries only: the bank holds the answers.
 */
export function createQuizBankFeature(deps: FeatureDeps): Feature {
  const bank = createQuestionBank({ db: deps.db, clock: deps.clock, provider: deps.provider });

  async function showStats(ctx: CommandContext): Promise<void> {
    const { t, identity } = ctx;
    const s = await bank.stats(identity.orgId);
    if (s.total === 0) {
      await ctx.reply(t('bank.stats.empty'));
      return;
    }
    // A card has room for the biggest tags; the rest are summed in a note.
    const shown = s.byTag.slice(0, MAX_TAGS_ON_CARD);
    const hidden = s.byTag.slice(MAX_TAGS_ON_CARD);
    const rows = shown.map((x) => [x.tag, String(x.count)]);
    if (s.untagged > 0) rows.push([t('bank.stats.untagged'), String(s.untagged)]);
    const card: Card = {
      header: { title: t('bank.stats.title'), colour: 'blue' },
      elements: [
        {
          type: 'fields',
          fields: [
            { label: t('bank.stats.total'), value: String(s.total) },
            { label: t('bank.stats.types'), value: t('bank.stats.by_type', { ...s.byType }) },
          ],
        },
        { type: 'table', columns: [t('bank.stats.tag'), t('bank.stats.count')], rows },
        ...(hidden.length > 0
          ? [
              {
                type: 'note' as const,
                text: t('bank.stats.more_tags', {
                  tags: hidden.length,
                  count: hidden.reduce((a, x) => a + x.count, 0),
                }),
              },
            ]
          : []),
        ...(s.retired > 0 ? [{ type: 'note' as const, text: t('bank.stats.retired', { count: s.retired }) }] : []),
        ...(s.byTag[0] ? [{ type: 'note' as const, text: t('bank.stats.hint', { tag: s.byTag[0].tag }) }] : []),
      ],
    };
    await ctx.replyCard(card);
  }

  async function report(ctx: CommandContext, name: string, result: ImportResult): Promise<void> {
    const { t } = ctx;
    if (!result.ok) {
      const only = result.problems[0];
      if (result.problems.length === 1 && only && only.line === undefined) {
        await ctx.reply(t('bank.import.refused.file', { name, problem: t(only.key, only.params) }));
        return;
      }
      const lines = [
        t('bank.import.refused', {
          name,
          count: result.problems.length,
          problems: renderProblems(result.problems, t, MAX_PROBLEMS_IN_CHAT),
        }),
      ];
      if (result.problems.some((p) => p.key === 'bank.row.duplicate_in_bank')) {
        lines.push(t('bank.import.refused.duplicates'));
      }
      await ctx.reply(lines.join('\n'));
      return;
    }
    const total = await bank.count(ctx.identity.orgId);
    const lines = [t('bank.import.done', { name, imported: result.imported, total })];
    if (result.skipped.length > 0) lines.push(t('bank.import.done.skipped', { skipped: result.skipped.length }));
    if (result.repeats.length > 0) {
      lines.push(
        t('bank.import.done.repeats', {
          count: result.repeats.length,
          lines: result.repeats
            .slice(0, MAX_PROBLEMS_IN_CHAT)
            .map((r) => t('bank.import.repeat_line', { line: r.line, other: r.other }))
            .join('\n'),
        }),
      );
      if (result.repeats.length > MAX_PROBLEMS_IN_CHAT) {
        lines.push(t('bank.problem.more_repeats', { count: result.repeats.length - MAX_PROBLEMS_IN_CHAT }));
      }
    }
    await ctx.reply(lines.join('\n'));
  }

  async function runImport(ctx: CommandContext, words: string[], skipFlag: boolean): Promise<void> {
    const { event, identity, t } = ctx;
    const files = event.files ?? [];
    const skipExisting = skipFlag || words.some((w) => SKIP.includes(w));
    if (files.length === 0 && words.some((w) => STARTER.includes(w))) {
      await report(ctx, t('bank.import.starter_name'), await importStarterBank(bank, identity.orgId, deps.root));
      return;
    }
    if (files.length === 0) throw new UserError('bank.import.no_file');
    if (files.length > 1) throw new UserError('bank.import.many_files', { count: files.length });
    const file = files[0]!;
    if (file.size !== undefined && file.size > MAX_IMPORT_BYTES) {
      throw new UserError('bank.file.too_large', { max: MAX_IMPORT_BYTES / 1024 / 1024 });
    }
    let bytes: Buffer;
    try {
      bytes = await file.read();
    } catch (err) {
      ctx.log.warn({ err, file: file.name }, 'could not read an attached file');
      throw new UserError('bank.import.unreadable', { name: file.name });
    }
    const result = await bank.importFile(identity.orgId, { name: file.name, bytes }, { skipExisting });
    ctx.log.info(
      { file: file.name, ok: result.ok, imported: result.ok ? result.imported : 0 },
      'question bank import from chat',
    );
    await report(ctx, file.name, result);
  }

  /** 题库 导出 [xlsx|csv|json] [标签]: the bank (or one tag of it) in a re-importable file, as a link. */
  async function runExport(ctx: CommandContext, words: string[]): Promise<void> {
    const { t, identity } = ctx;
    const isFormat = (w: string) => (FORMATS as readonly string[]).includes(w.toLowerCase());
    const format = (words.find(isFormat)?.toLowerCase() ?? 'xlsx') as BankFormat;
    const tags = words.filter((w) => !isFormat(w));
    if (tags.length > 1) {
      throw new UserError('error.usage', { problem: t('bank.export.one_tag'), usage: t('cmd.questions.usage') });
    }
    const tag = tags[0];
    const { bytes, count } = await bank.exportFile(identity.orgId, format, tag ? { tag } : {});
    if (count === 0) throw new UserError(tag ? 'bank.export.empty_tag' : 'bank.stats.empty', { tag: tag ?? '' });
    const download = await offerDownload(deps.files, t, {
      platform: ctx.platform,
      orgId: identity.orgId,
      name: `${t('bank.export.file_name')}${tag ? `-${safeFileName(tag)}` : ''}.${format}`,
      contentType: CONTENT_TYPES[format],
      bytes,
      buttonText: t('bank.export.download', { format: format.toUpperCase() }),
    });
    const card: Card = {
      header: { title: t('bank.export.title'), colour: 'green' },
      elements: [
        { type: 'markdown', text: t(tag ? 'bank.export.done_tag' : 'bank.export.done', { count, tag: tag ?? '' }) },
        ...(download.link ? [download.link] : []),
        { type: 'note', text: download.note },
      ],
    };
    // The file holds every answer: it goes to the secretary who asked, never to a group.
    if (ctx.event.chat.kind === 'direct') {
      await ctx.replyCard(card);
      return;
    }
    await ctx.replyPrivately({ card });
    await ctx.reply(t('bank.export.sent_private', { name: identity.displayName }));
  }

  /** 题库 模板: the format in short, then the template as XLSX and CSV files to fill in. */
  async function sendTemplate(ctx: CommandContext): Promise<void> {
    const { t } = ctx;
    const { xlsx, csv } = await bankTemplateFiles(deps.root);
    await ctx.reply(t('bank.template'));
    const name = t('bank.template.file_name');
    await ctx.reply({ file: { name: `${name}.xlsx`, contentType: CONTENT_TYPES.xlsx, bytes: xlsx } });
    await ctx.reply({ file: { name: `${name}.csv`, contentType: CONTENT_TYPES.csv, bytes: csv } });
  }

  const importSub = defineSubcommand({
    name: 'import',
    zh: '导入',
    aliases: ['上传'],
    positionals: ['...rest'],
    options: { 'skip-duplicates': { type: 'boolean' } },
    args: z.object({ rest: z.string().optional(), 'skip-duplicates': z.boolean().optional() }),
    async run(ctx, args) {
      const words = (args.rest ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((w) => w.normalize('NFKC').toLowerCase());
      // Only the two modifiers of an import may follow it.
      const extra = words.find((w) => !SKIP.includes(w) && !STARTER.includes(w));
      if (extra !== undefined) {
        throw new UserError('error.usage', {
          problem: ctx.t('error.usage.extra', { words: extra }),
          usage: ctx.t('cmd.questions.usage'),
        });
      }
      await runImport(ctx, words, args['skip-duplicates'] ?? false);
    },
  });

  const questions = defineCommand({
    name: 'questions',
    zh: '题库',
    aliases: ['bank'],
    summaryKey: 'cmd.questions.summary',
    usageKey: 'cmd.questions.usage',
    scope: 'any',
    role: 'secretary',
    receivesFiles: true,
    positionals: ['verb'],
    // Reached only when no subcommand matched: a bare 题库, or a word that is none of them.
    args: z.object({
      verb: z
        .string()
        .optional()
        .refine((v) => v === undefined, { message: 'bank.usage.verb' }),
    }),
    subcommands: [
      importSub,
      defineSubcommand({
        name: 'export',
        zh: '导出',
        aliases: ['下载'],
        positionals: ['...rest'],
        args: z.object({ rest: z.string().optional() }),
        // Tags keep their case; only the format word is matched case-insensitively.
        run: (ctx, { rest }) => runExport(ctx, (rest ?? '').split(/\s+/).filter(Boolean)),
      }),
      defineSubcommand({ name: 'stats', zh: '概况', aliases: ['统计', '查看'], run: (ctx) => showStats(ctx) }),
      defineSubcommand({
        name: 'template',
        zh: '模板',
        aliases: ['格式'],
        run: sendTemplate,
      }),
    ],
    async run(ctx) {
      // A file sent with a bare 题库 can only be meant for import.
      if ((ctx.event.files?.length ?? 0) > 0) return importSub.run(ctx, {});
      await showStats(ctx);
    },
  });

  let dropping: Promise<void> | undefined;
  return defineFeature({
    name: 'quiz-bank',
    commands: [questions],
    messages: quizBank,
    // An import cut short by a crash left staging rows nobody sees: drop them.
    start() {
      dropping = bank
        .dropAbandonedImports()
        .then((n) => {
          if (n > 0) deps.log.warn({ imports: n }, 'dropped the staging rows of imports cut short');
        })
        .catch((err: unknown) => deps.log.error({ err }, 'dropping abandoned imports failed'));
    },
    stop: async () => {
      await dropping;
    },
  });
}
