// The edges of Configure's validation rules (firmware-sim/device/validate.ts, core/fr_validate.c,
// protocol/src/limits.ts): each mutation pushes one rule of a valid config to its last accepted value
// or its first refused one, so both implementations must pick the same rule, code and field.
import { type AcquisitionConfigInit, HEARTBEAT_TIMEOUT_RANGE_MS, ModulationMode, STATUS_INTERVAL_RANGE_MS } from '../../protocol/index.ts';
import type { BoardDefinition } from '../../firmware-sim/device/board.ts';
import { LOCK_IN_RULES } from '../../firmware-sim/device/validate.ts';
import type { Rng } from './rng.ts';

const M = ModulationMode;
type Mode = (typeof ModulationMode)[keyof typeof ModulationMode];

/** One validation rule pushed to its edge: accepted (at the limit) or refused (just past it). */
export type Mutation = (c: AcquisitionConfigInit, board: BoardDefinition, rng: Rng) => void;

export const ledLimit = (board: BoardDefinition, channel: number): number => board.leds.find((l) => l.id === channel)?.maxCurrentContinuousMa ?? 50;

export const MUTATIONS: readonly Mutation[] = [
  (c) => { c.mode = M.MODULATION_MODE_UNSPECIFIED; },
  (c) => { c.mode = 7 as Mode; },
  (c) => { c.detectorIds = []; },
  (c, b) => { c.detectorIds = [Math.max(...b.detectors.map((d) => d.id)) + 1]; },
  (c, b) => { c.detectorIds = [b.detectors[0]!.id, b.detectors[0]!.id]; },
  (c) => { c.sampleRateHz = 0; },
  (c, b, r) => { c.sampleRateHz = b.maxSampleRateHz + r.pick([0, 1]); c.oversampling = 1; },
  (c) => { c.oversampling = 0; },
  (c, b, r) => { c.oversampling = b.maxOversampling + r.pick([0, 1]); c.sampleRateHz = 1000; },
  (c, b) => { c.sampleRateHz = 4000; c.oversampling = Math.floor(b.maxConversionRateHz / 4000) + 1; },
  (c) => { c.leds = []; },
  (c, b) => { c.leds = [{ channel: Math.max(...b.leds.map((l) => l.id)) + 1, currentMa: 1 }]; },
  (c, b) => { c.leds = [{ channel: b.leds[0]!.id, currentMa: 1 }, { channel: b.leds[0]!.id, currentMa: 2 }]; },
  (c) => { if (c.leds?.[0]) c.leds[0] = { ...c.leds[0], currentMa: -0.5 }; },
  (c, b, r) => {
    if (!c.leds?.[0]) return;
    const limit = ledLimit(b, c.leds[0].channel ?? 0);
    c.mode = r.pick([M.MODULATION_MODE_CONTINUOUS, M.MODULATION_MODE_LOCK_IN]);
    c.leds[0] = { ...c.leds[0], currentMa: r.pick([limit, limit + 0.01, Math.fround(limit + 1e-6)]) };
    if (c.mode === M.MODULATION_MODE_CONTINUOUS) delete c.leds[0].carrierHz;
  },
  (c, b, r) => {
    // TIME_DIVISION: the pulse limit and the average-current limit
    const ch = b.leds[0]!;
    c.mode = M.MODULATION_MODE_TIME_DIVISION;
    c.timeDivision = { slotSamples: 4, onSamples: 2, settleSamples: 0, windowSamples: 1, darkSlot: false };
    const avgLimit = (ch.maxCurrentContinuousMa * 4) / 2;
    c.leds = [{ channel: ch.id, currentMa: r.pick([ch.maxCurrentPulsedMa, ch.maxCurrentPulsedMa + 0.01, Math.min(avgLimit, ch.maxCurrentPulsedMa) + 0.01]) }];
  },
  (c, _b, r) => {
    c.mode = M.MODULATION_MODE_TIME_DIVISION;
    const bad = r.int(0, 5);
    const td = { slotSamples: 4, onSamples: 3, settleSamples: 1, windowSamples: 2, darkSlot: r.chance(0.5) };
    if (bad === 0) td.slotSamples = 0;
    if (bad === 1) td.onSamples = 0;
    if (bad === 2) td.onSamples = 5;
    if (bad === 3) td.windowSamples = 0;
    if (bad === 4) td.windowSamples = 3;
    if (bad === 5) td.slotSamples = Math.floor((c.sampleRateHz ?? 1000) / Math.max(1, (c.leds?.length ?? 1) + (td.darkSlot ? 1 : 0))) + r.pick([0, 1]);
    c.timeDivision = td;
    for (const l of c.leds ?? []) { l.currentMa = 1; delete l.carrierHz; }
  },
  (c) => { c.mode = M.MODULATION_MODE_TIME_DIVISION; delete c.timeDivision; },
  (c, _b, r) => {
    // LOCK_IN band edges: the minimum carrier and the 0.45 fs ceiling
    c.mode = M.MODULATION_MODE_LOCK_IN;
    c.sampleRateHz = 1000;
    c.oversampling = 1;
    const f = r.pick([0, -40, LOCK_IN_RULES.minCarrierHz, LOCK_IN_RULES.minCarrierHz - 2.5, 450, 452.5, Number.NaN]);
    c.leds = [{ channel: c.leds?.[0]?.channel ?? 0, currentMa: 1, carrierHz: f }];
  },
  (c, b, r) => {
    // LOCK_IN spacing, harmonics, intermodulation and mains guards
    c.mode = M.MODULATION_MODE_LOCK_IN;
    c.sampleRateHz = 1000;
    c.oversampling = 1;
    const pairs: Array<[number, number]> = [
      [137.5, 177.5], [137.5, 175], [100, 200], [100, 202.5], [137.5, 227.5], [110, 162.5], [70, 140], [45, 125], [162.5, 307.5], [55, 125],
    ];
    const [f0, f1] = r.pick(pairs);
    const ids = b.leds.map((l) => l.id);
    c.leds = [{ channel: ids[0]!, currentMa: 1, carrierHz: f0 }, { channel: ids[1] ?? ids[0]!, currentMa: 1, carrierHz: f1 }];
    if (ids.length > 2 && r.chance(0.5)) c.leds.push({ channel: ids[2]!, currentMa: 1, carrierHz: r.pick([237.5, 317.5, 360, 400]) });
  },
  (c) => { c.blockSamples = 0; },
  (c, b, r) => { c.blockSamples = b.maxBlockSamples + r.pick([0, 1]); },
  (c, b) => { c.detectorIds = b.detectors.map((d) => d.id); c.blockSamples = Math.floor(b.maxSampleBytes / (2 * b.detectors.length)) + 1; },
  (c, b, r) => {
    const ids = b.auxInputs.map((a) => a.id);
    const bad = r.int(0, 4);
    if (bad === 0) c.aux = { inputIds: [99], rateHz: 100 };
    if (bad === 1) c.aux = { inputIds: ids.slice(0, 1), rateHz: 0 };
    if (bad === 2) c.aux = { inputIds: ids.slice(0, 1), rateHz: (b.auxInputs[0]?.maxRateHz ?? 100) + r.pick([0, 1]) };
    if (bad === 3) c.aux = { inputIds: ids.slice(0, 1), rateHz: 300 };
    if (bad === 4) c.aux = { inputIds: [], rateHz: 100 };
  },
  (c, b, r) => {
    // AuxConfig.block_samples (1.2): at or past the block limits (samples, then sample bytes), or given without aux inputs
    const ids = b.auxInputs.map((a) => a.id);
    const fs = c.sampleRateHz ?? 0;
    const auxMax = Math.min(...b.auxInputs.map((a) => a.maxRateHz));
    const rate = [1, 2, 4, 5, 10, 20, 40, 50, 100].map((d) => fs / d).find((x) => Number.isInteger(x) && x <= auxMax);
    const bad = ids.length === 0 || rate === undefined ? 2 : r.int(0, 2);
    if (bad === 0) c.aux = { inputIds: ids, rateHz: rate!, blockSamples: b.maxBlockSamples + r.pick([0, 1]) };
    if (bad === 1) c.aux = { inputIds: ids, rateHz: rate!, blockSamples: Math.floor(b.maxSampleBytes / (2 * ids.length)) + r.pick([0, 1]) };
    if (bad === 2) c.aux = { inputIds: [], rateHz: 0, blockSamples: 10 };
  },
  (c, b, r) => {
    const out = b.digitalLines.find((d) => d.direction === 'output')?.id ?? 2;
    c.digitalInputIds = r.pick([[99], [out], [0, 0]]);
  },
  (c, b, r) => {
    const out = b.digitalLines.find((d) => d.direction === 'output')?.id ?? 2;
    const bad = r.int(0, 4);
    if (bad === 0) c.syncOut = { enabled: true, line: 99, periodSamples: 10, pulseSamples: 1 };
    if (bad === 1) c.syncOut = { enabled: true, line: 0, periodSamples: 10, pulseSamples: 1 };
    if (bad === 2) c.syncOut = { enabled: true, line: out, periodSamples: r.pick([1, 2]), pulseSamples: 1 };
    if (bad === 3) c.syncOut = { enabled: true, line: out, periodSamples: 10, pulseSamples: r.pick([0, 9, 10]) };
    if (bad === 4) c.syncOut = { enabled: false, line: 99, periodSamples: 0, pulseSamples: 0 };
  },
  (c, _b, r) => {
    const { min, max } = HEARTBEAT_TIMEOUT_RANGE_MS;
    c.heartbeatTimeoutMs = r.pick([min - 1, min, max, max + 1]);
  },
  (c, _b, r) => {
    const { min, max } = STATUS_INTERVAL_RANGE_MS;
    c.statusIntervalMs = r.pick([min - 1, min, max, max + 1]);
  },
  (c, _b, r) => {
    // power_uw: needs a stored calibration, and must fall inside its range
    if (!c.leds?.[0]) return;
    const { currentMa: _drop, ...rest } = c.leds[0];
    c.leds[0] = { ...rest, powerUw: r.pick([0, 5, 100, 1000, 1e6, -1]) };
  },
];
