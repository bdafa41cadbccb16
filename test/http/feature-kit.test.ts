import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction } from '../../src/bot/actions.ts';
import { defineCommand, defineSubcommand } from '../../src/bot/commands.ts';
import { defineFeature, type FeatureDeps } from '../../src/bot/feature.ts';
import { createJobs, defineJob, JobPayloadError } from '../../src/bot/jobs.ts';
import { DEMO } from '../../src/features/org/demo-seed.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * The feature kit as a feature author meets it: a whole family declared as
 * data (a command with subcommands, a card action with a form schema, a
 * scheduled job) and added to the bot by the harness, with sends made inside
 * the caller's transaction.
 */
function createProbeFeature(deps: FeatureDeps) {
  const ping = defineJob({
    kind: 'probe.ping',
    payload: z.object({ chatId: z.string(), text: z.string().min(1) }),
    async run({ item, send }, payload) {
      await send.toChat({ platform: 'sandbox', orgId: item.orgId, chatId: payload.chatId }, { text: payload.text });
      await send.toUnit('demo-unit-office', { key: 'hint.empty' });
    },
  });
  const probe = defineCommand({
    name: 'probe',
    zh: '探测',
    summaryKey: 'cmd.help.summary',
    usageKey: 'cmd.help.usage',
    scope: 'any',
    role: 'member',
    positionals: ['...rest'],
    args: z.object({ rest: z.string().optional() }),
    async run(ctx, { rest }) {
      await ctx.reply(`default:${rest ?? ''}`);
    },
    subcommands: [
      defineSubcommand({
        name: 'add',
        zh: '添加',
        aliases: ['新建'],
        role: 'secretary',
        positionals: ['n'],
        args: z.object({ n: z.coerce.number({ message: 'usage.number_required' }).int() }),
        async run(ctx, { n }) {
          await ctx.reply(`added:${n}`);
        },
      }),
      defineSubcommand({
        name: 'later',
        zh: '稍后',
        positionals: ['...text'],
        args: z.object({ text: z.string() }),
        async run(ctx, { text }) {
          await deps.jobs.schedule(ping, {
            orgId: ctx.identity.orgId,
            dueAt: new Date(deps.clock.now().getTime() + 60_000),
            payload: { chatId: ctx.event.chat.id, text },
          });
          await ctx.reply('scheduled');
        },
      }),
      defineSubcommand({
        name: 'rollback',
        zh: '回滚',
        async run(ctx) {
          await deps.db.$transaction(async (tx) => {
            await ctx.reply('never seen', { tx });
            await ctx.send.in(tx).toSecretaries(ctx.identity.orgId, { text: 'never seen either' });
            throw new Error('the work failed after deciding to send');
          });
        },
      }),
      defineSubcommand({
        name: 'file',
        zh: '文件',
        async run(ctx) {
          const bytes = new TextEncoder().encode('# 2027 年读书会年鉴\n');
          await ctx.replyPrivately({
            file: { name: '年鉴.md', contentType: 'text/markdown; charset=utf-8', bytes },
            caption: '年鉴已生成',
          });
        },
      }),
      defineSubcommand({
        name: 'card',
        zh: '卡片',
        async run(ctx) {
          await ctx.replyCard({
            header: { title: '探测卡片', colour: 'blue' },
            elements: [
              {
                type: 'form',
                inputs: [{ name: 'note', label: '心得', multiline: false }],
                submitText: '提交',
                actionId: 'probe.note',
                payload: { v: 1 },
              },
            ],
          });
        },
      }),
    ],
  });
  const note = defineAction({
    id: 'probe.note',
    payload: z.object({ v: z.literal(1) }),
    form: z.object({ note: z.string().trim().min(2, { message: 'calendar.usage.spec_required' }) }),
    async run(_ctx, _payload, form) {
      return { toast: { kind: 'success', text: `收到：${form.note}` } };
    },
  });
  return defineFeature({ name: 'probe', commands: [probe], actions: [note], jobs: [ping] });
}

describe('the feature kit', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ features: [createProbeFeature] });
  });
  afterEach(async () => h.close());

  it('routes a sub-word to its subcommand, by Chinese, English or alias, and the rest to the command itself', async () => {
    expect((await h.say('group-a', 'sec-wang', '探测 添加 3'))[0]?.text).toBe('added:3');
    expect((await h.say('group-a', 'sec-wang', 'probe add 4'))[0]?.text).toBe('added:4');
    expect((await h.say('group-a', 'sec-wang', '探测 新建 5'))[0]?.text).toBe('added:5');
    expect((await h.say('group-a', 'm-li', '探测 其他 话'))[0]?.text).toBe('default:其他 话');
  });

  it('lists the subcommands in the help of their command', async () => {
    const [help] = await h.say('group-a', 'm-li', '帮助 探测');
    expect(help?.text).toContain('添加 / add');
    expect(help?.text).toContain('回滚 / rollback');
  });

  it("checks the subcommand's own role and translates catalogue keys in its argument errors", async () => {
    const refused = await h.say('group-a', 'm-li', '探测 添加 3');
    expect(refused[0]?.text).toContain('书记');
    const bad = await h.say('group-a', 'sec-wang', '探测 添加 三');
    expect(bad[0]?.text).toContain('编号应是数字');
    expect(bad[0]?.text).not.toContain('usage.number_required');
  });

  it('runs a declared job when it falls due and sends inside its transaction', async () => {
    await h.say('group-a', 'm-li', '探测 稍后 交心得啦');
    await h.shuxiang.scheduler.tick();
    expect((await h.transcript('group-a')).some((m) => m.text === '交心得啦')).toBe(false);
    h.clock.advance(61_000);
    expect(await h.shuxiang.scheduler.tick()).toBe(1);
    await h.shuxiang.worker.drain(20);
    expect((await h.transcript('group-a')).filter((m) => m.text === '交心得啦')).toHaveLength(1);
    // toUnit reached the unit's members privately (李明 is in 办公室 in the demo organisation).
    const office = await h.shuxiang.db.prisma.member.findMany({ where: { unitId: 'demo-unit-office' } });
    expect(office.length).toBeGreaterThan(0);
    for (const m of office) {
      expect((await h.transcript(`dm-${m.platformUserId}`)).some((x) => x.text?.includes('书香'))).toBe(true);
    }
  });

  it('refuses to schedule a job whose payload its schema rejects, writing nothing', async () => {
    const job = h.shuxiang.bot.features.find((f) => f.name === 'probe')!.jobs![0]!;
    await expect(
      createJobs(h.shuxiang.scheduler).schedule(job, {
        orgId: DEMO.orgId,
        dueAt: h.clock.now(),
        payload: { chatId: 'group-a', text: '' },
      }),
    ).rejects.toBeInstanceOf(JobPayloadError);
    expect(await h.shuxiang.db.prisma.scheduledItem.count({ where: { kind: 'probe.ping' } })).toBe(0);
  });

  it('sends nothing that was decided inside a transaction that rolled back', async () => {
    const replies = await h.say('group-a', 'sec-wang', '探测 回滚');
    expect(replies.map((r) => r.text)).toEqual([expect.stringContaining('抱歉')]);
    expect(await h.shuxiang.db.prisma.outboxMessage.count({ where: { body: { contains: 'never seen' } } })).toBe(0);
  });

  it('sends a file through the same helper: a file entry in the sandbox, downloadable, privately', async () => {
    await h.say('group-a', 'sec-wang', '探测 文件');
    expect((await h.transcript('group-a')).some((m) => (m as { file?: unknown }).file)).toBe(false);
    const dm = (await h.transcript('dm-sec-wang')) as (Awaited<ReturnType<Harness['transcript']>>[number] & {
      file?: { name: string; url: string };
    })[];
    const entry = dm.find((m) => m.file)?.file;
    expect(entry?.name).toBe('年鉴.md');
    const res = await h.shuxiang.app.request(entry!.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('2027 年读书会年鉴');
  });

  it('validates form values with the action form schema before the handler sees them', async () => {
    const [card] = await h.say('group-a', 'm-li', '探测 卡片');
    const bad = await h.click('group-a', 'm-li', card!, 'probe.note', { note: ' x ' });
    expect(bad.toast?.kind).toBe('warning');
    expect(bad.toast?.text).toContain('请写上时间和内容');
    const good = await h.click('group-a', 'm-li', card!, 'probe.note', { note: '读了第一章' });
    expect(good.toast).toEqual({ kind: 'success', text: '收到：读了第一章' });
  });
});
