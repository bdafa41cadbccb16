import { sheetBytes } from '../src/features/quiz/export-xlsx.ts';
for (const n of [1000, 5000, 5000]) {
  const rows = Array.from({ length: n }, (_, i) => [`考生${i}`, '办公室', '已参加', 7, 10, 70, '2026-11-29 09:00', '15分0秒']);
  const t = performance.now();
  await sheetBytes('x', Array.from({ length: 8 }, (_, i) => ({ header: `h${i}` })), rows);
  console.log(n, Math.round(performance.now() - t));
}
