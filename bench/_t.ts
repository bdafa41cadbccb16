import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/lib/db.ts';
import { createMigrator } from '../src/lib/migrator.ts';
const dir = mkdtempSync(path.join(tmpdir(), 'h15-'));
const db = await openDatabase(`file:${dir}/x.db`); await createMigrator(db).migrate();
const p = db.prisma;
await p.organisation.create({ data: { id: 'o', name: 'o', timezone: 'Asia/Shanghai' } });
for (const size of [100, 500, 500, 100]) {
  const ids = Array.from({ length: size }, (_, i) => `u${size}_${Math.random()}_${i}`);
  let t = performance.now();
  await p.member.createMany({ data: ids.map((id) => ({ id, orgId: 'o', platform: 'feishu', platformUserId: id, displayName: id })) });
  const a = performance.now() - t; t = performance.now();
  await p.member.findMany({ where: { orgId: 'o', platform: 'feishu', platformUserId: { in: ids } }, select: { id: true, platformUserId: true, displayName: true, unitId: true, platform: true } });
  console.log(size, 'createMany', Math.round(a), 'findMany', Math.round(performance.now() - t));
}
