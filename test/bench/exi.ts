/**
 * bench:exi — nanoseconds per decode and per encode of a CurrentDemandReq in DIN 70121 (the
 * Ioniq's, from a real capture), ISO 15118-2 and ISO 15118-20 DC (DC_ChargeLoopReq). Each
 * figure is the median of several timed batches after a warm-up.
 *
 *   npm run bench:exi -- --json
 */
import { decode, encode, fromHex, toHex } from '@opensecc/exi-codec';
import { report, type Figure } from './report.js';

const BATCHES = Number(process.env.BENCH_BATCHES ?? 15);
const BATCH_MS = Number(process.env.BENCH_BATCH_MS ?? 100);

const cases: { schema: string; message: string; doc: unknown }[] = [
  {
    schema: 'din',
    message: 'CurrentDemandReq',
    doc: decode('din', fromHex('809a02004080c1014181c210d100000ba0406014010285010004061a01e04070c84c0400c081e00604000040a1503c00')),
  },
  {
    schema: 'iso2',
    message: 'CurrentDemandReq',
    doc: {
      V2G_Message: {
        Header: { SessionID: '0102030405060708' },
        Body: {
          CurrentDemandReq: {
            DC_EVStatus: { EVReady: true, EVErrorCode: 'NO_ERROR', EVRESSSOC: 93 },
            EVTargetCurrent: { Multiplier: -1, Unit: 'A', Value: 1250 },
            EVMaximumVoltageLimit: { Multiplier: -1, Unit: 'V', Value: 4128 },
            EVMaximumCurrentLimit: { Multiplier: -1, Unit: 'A', Value: 2000 },
            EVMaximumPowerLimit: { Multiplier: 1, Unit: 'W', Value: 9800 },
            BulkChargingComplete: false,
            ChargingComplete: false,
            RemainingTimeToFullSoC: { Multiplier: 0, Unit: 's', Value: 1200 },
            RemainingTimeToBulkSoC: { Multiplier: 0, Unit: 's', Value: 900 },
            EVTargetVoltage: { Multiplier: -1, Unit: 'V', Value: 3880 },
          },
        },
      },
    },
  },
  {
    schema: 'iso20-dc',
    message: 'DC_ChargeLoopReq',
    doc: {
      DC_ChargeLoopReq: {
        Header: { SessionID: '0102030405060708', TimeStamp: 1700000000 },
        DisplayParameters: { PresentSOC: 57, TargetSOC: 80, ChargingComplete: false },
        MeterInfoRequested: false,
        EVPresentVoltage: { Exponent: -1, Value: 3880 },
        Scheduled_DC_CLReqControlMode: {
          EVTargetCurrent: { Exponent: -1, Value: 1250 },
          EVTargetVoltage: { Exponent: -1, Value: 3900 },
          EVMaximumChargePower: { Exponent: 1, Value: 9800 },
          EVMaximumChargeCurrent: { Exponent: -1, Value: 2000 },
          EVMaximumVoltage: { Exponent: -1, Value: 4128 },
        },
      },
    },
  },
];

/** Median ns/op of `fn` over timed batches. */
function measure(fn: () => void): number {
  // Warm up until the optimizing compiler has seen the code.
  for (let i = 0; i < 20000; i++) fn();
  let perBatch = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= BATCH_MS / 4) {
      perBatch = Math.max(1, Math.round((perBatch * BATCH_MS) / ms));
      break;
    }
    perBatch *= 4;
  }
  const samples: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / perBatch);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

let sink = 0;
const figures: Figure[] = [];
for (const c of cases) {
  const bytes = encode(c.schema, c.doc);
  // Sanity: the benchmark measures a real round trip.
  if (toHex(encode(c.schema, decode(c.schema, bytes))) !== toHex(bytes)) throw new Error(`${c.schema} ${c.message} does not round-trip`);
  figures.push({ name: `exi.${c.schema}.${c.message}.decode`, unit: 'ns/op', value: measure(() => { sink += decode(c.schema, bytes) === undefined ? 1 : 0; }) });
  figures.push({ name: `exi.${c.schema}.${c.message}.encode`, unit: 'ns/op', value: measure(() => { sink += encode(c.schema, c.doc).length; }) });
}
if (sink < 0) console.log(sink);
report(figures);
