/**
 * Derives test/v2g/fixtures/captured-sessions.json from the real captures in ../shared/captures, so
 * the replay test still covers the essentials where ../shared is absent. Long runs of the same request
 * (PreCharge, CurrentDemand, CableCheck polling) are cut to their first three and their last.
 * Run: npx tsc -b test/v2g && node test/v2g/dist/tools/derive-fixtures.js
 */
import { writeFileSync } from 'node:fs';
import { loadCapture } from '../helpers/captures.js';

const FILES = ['2023-05-24_pyPlc_with_Ioniq93prcSoc.pcapng.decoded.txt', '2024-04-20_ModelY_pyPLC_stop_in_precharge.pcapng.decoded.txt'];

const sessions = FILES.map((file) => {
  const exchanges = loadCapture(file);
  const kept: Array<{ request: string; hex: string; response: string | null; processing: string | null }> = [];
  let run = 0;
  exchanges.forEach((e, i) => {
    run = i > 0 && exchanges[i - 1]!.request.name === e.request.name ? run + 1 : 0;
    const lastOfRun = i === exchanges.length - 1 || exchanges[i + 1]!.request.name !== e.request.name;
    if (run >= 3 && !lastOfRun) return;
    const body = e.response?.schema === 'din' ? ((e.response.document.V2G_Message as { Body: Record<string, Record<string, unknown>> }).Body[e.response.name] ?? {}) : {};
    kept.push({ request: e.request.name, hex: e.request.hex, response: e.response?.name ?? null, processing: typeof body.EVSEProcessing === 'string' ? body.EVSEProcessing : null });
  });
  return { source: file, exchanges: kept };
});
const out = new URL('../../fixtures/captured-sessions.json', import.meta.url);
writeFileSync(out, JSON.stringify({ generatedBy: 'test/v2g/tools/derive-fixtures.ts — do not edit', sessions }, null, 1) + '\n');
console.log(`wrote ${out.pathname}: ${sessions.map((s) => `${s.source}: ${s.exchanges.length}`).join(', ')}`);
