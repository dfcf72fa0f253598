// The generator: random, seeded command sequences for one board pair. Each
// sequence is a script of link writes and clock advances (whole milliseconds),
// run unchanged against the simulator and the C firmware. Configure is drawn
// valid, then (half the time) one validation rule is pushed to its edge: the
// last accepted value or the first refused one (firmware-sim/device/validate.ts
// and core/fr_validate.c, protocol/src/limits.ts, the nanopb bounds of
// protocol/fiberrig.options). Around it: runs (Start, SetLed mid-run,
// heartbeats or none so the watchdog trips, link stalls that overrun the ring),
// Start/Stop alone, calibration writes and reads, Reset, GetInfo, SelfTest, and
// frames that are garbage, truncated, oversized, undecodable or beyond a nanopb
// bound. Nothing is sent during a stall: the firmware stops reading input while
// its control queue cannot take a reply, the simulator never does, and that
// backpressure is left out of the comparison.
import {
  type AcquisitionConfigInit, type CalibrationTableInit, type EnvelopeInit, encodeFrame, encodeEnvelope, frameEnvelope, MAX_FRAME_BYTES,
  ModulationMode, PROTOCOL_VERSION,
} from '../../protocol/index.ts';
import { LOCK_IN_RULES } from '../../firmware-sim/device/validate.ts';
import type { BoardDefinition } from '../../firmware-sim/device/board.ts';
import type { Pair } from './boards.ts';
import { ledLimit, MUTATIONS } from './mutations.ts';
import { Rng } from './rng.ts';

export type Step =
  | { readonly kind: 'send'; readonly bytes: Uint8Array; readonly label: string }
  | { readonly kind: 'advance'; readonly ms: number }
  /** The host stops reading (up: false) or reads again: the device's link stalls and its ring fills. */
  | { readonly kind: 'link'; readonly up: boolean };

export interface Sequence {
  readonly seed: number;
  readonly pair: Pair['name'];
  readonly steps: readonly Step[];
}

const M = ModulationMode;
type Body = Omit<EnvelopeInit, 'requestId'>;

/** Sample rates every board here takes (they divide the pyboard's 84 MHz sample clock). */
const RATES_HZ = [500, 1000, 2000, 3000, 4000] as const;
/** Lock-in carriers are fs * k / 400: they repeat within 400 samples, inside the pyboard's 1024-entry tables. */
const CARRIER_PERIOD_SAMPLES = 400;

class Builder {
  readonly steps: Step[] = [];
  private nextId = 1;
  /** Whether some Configure of this sequence may have been accepted (commands that need one get more likely). */
  configured = false;

  constructor(readonly rng: Rng) {}

  send(body: Body, label = Object.keys(body)[0]!): void {
    const requestId = this.rng.chance(0.02) ? 0xffffffff : this.nextId++;
    this.steps.push({ kind: 'send', bytes: frameEnvelope({ requestId, ...body }), label });
  }

  raw(bytes: Uint8Array, label: string): void {
    this.steps.push({ kind: 'send', bytes, label });
  }

  advance(ms: number): void {
    if (ms > 0) this.steps.push({ kind: 'advance', ms });
  }

  /** A stall: nothing is sent while the host does not read (a device may stop reading when its replies cannot leave). */
  stall(ms: number): void {
    this.steps.push({ kind: 'link', up: false });
    this.advance(ms);
    this.steps.push({ kind: 'link', up: true });
  }
}

function fitsSampleClock(pair: Pair, hz: number): boolean {
  return pair.sampleClockHz === null || pair.sampleClockHz % hz === 0;
}

function validConfig(rng: Rng, pair: Pair): AcquisitionConfigInit {
  const board = pair.board;
  const mode = rng.pick(board.modes);
  const fs = rng.pick(RATES_HZ);
  const oversamplings = [1, 2, 4, 5, 8, 16].filter((o) => fs * o <= board.maxConversionRateHz && fitsSampleClock(pair, fs * o));
  const nLeds = rng.int(1, Math.min(3, board.leds.length));
  const channels = rng.some(board.leds.map((l) => l.id), nLeds);
  const config: AcquisitionConfigInit = {
    mode, sampleRateHz: fs, oversampling: rng.pick(oversamplings),
    detectorIds: rng.some(board.detectors.map((d) => d.id), rng.int(1, board.detectors.length)),
    blockSamples: rng.chance(0.1) ? 1 : rng.pick([5, 10, 20, 25, 50, 64]),
    heartbeatTimeoutMs: rng.chance(0.3) ? 0 : rng.pick([100, 150, 250, 1000, 60_000]),
    statusIntervalMs: rng.chance(0.3) ? 0 : rng.pick([50, 70, 100, 500]),
    leds: [],
  };
  let duty = 1;
  if (mode === M.MODULATION_MODE_TIME_DIVISION) {
    const slot = rng.int(2, 12);
    const on = rng.int(1, slot);
    const settle = rng.int(0, on - 1);
    const darkSlot = rng.chance(0.5);
    config.timeDivision = { slotSamples: slot, onSamples: on, settleSamples: settle, windowSamples: rng.int(1, on - settle), darkSlot };
    duty = on / ((nLeds + (darkSlot ? 1 : 0)) * slot);
  }
  const carriers = lockInCarriers(rng, fs, nLeds);
  config.leds = channels.map((channel, i) => {
    const def = board.leds.find((l) => l.id === channel)!;
    const limit = mode === M.MODULATION_MODE_TIME_DIVISION ? Math.min(def.maxCurrentPulsedMa, def.maxCurrentContinuousMa / duty) : def.maxCurrentContinuousMa;
    const currentMa = rng.chance(0.1) ? 0 : Math.round(rng.next() * limit * 100) / 100;
    return mode === M.MODULATION_MODE_LOCK_IN ? { channel, currentMa, carrierHz: carriers[i]! } : { channel, currentMa };
  });
  if (board.auxInputs.length > 0 && rng.chance(0.3)) {
    const rates = [1, 2, 4, 5, 10].map((d) => fs / d).filter((r) => Number.isInteger(r) && r <= Math.min(...board.auxInputs.map((a) => a.maxRateHz)));
    if (rates.length > 0) {
      config.aux = { inputIds: rng.some(board.auxInputs.map((a) => a.id), rng.int(1, board.auxInputs.length)), rateHz: rng.pick(rates) };
      // AuxConfig.block_samples (1.2): aux blocks of their own size, or 0 (the detectors' block_samples)
      if (rng.chance(0.5)) config.aux.blockSamples = rng.pick([1, 3, 10, 32]);
    }
  }
  const inputs = board.digitalLines.filter((d) => d.direction === 'input').map((d) => d.id);
  if (rng.chance(0.2)) config.digitalInputIds = rng.some(inputs, rng.int(1, inputs.length));
  const output = board.digitalLines.find((d) => d.direction === 'output');
  if (output && rng.chance(0.2)) {
    const period = rng.int(2, 200);
    config.syncOut = { enabled: true, line: output.id, periodSamples: period, pulseSamples: rng.int(1, period - 1) };
  }
  return config;
}

/** Carriers on the fs / 400 grid inside the lock-in band (the spacing/harmonic/mains rules are left to chance). */
function lockInCarriers(rng: Rng, fs: number, n: number): number[] {
  const step = fs / CARRIER_PERIOD_SAMPLES;
  const kMin = Math.ceil(LOCK_IN_RULES.minCarrierHz / step);
  const kMax = Math.floor((LOCK_IN_RULES.maxCarrierFractionOfRate * fs) / step);
  return Array.from({ length: n }, () => rng.int(kMin, kMax) * step);
}

/**
 * The pyboard's hardware-timing rules (rate and rate x oversampling divide its 84 MHz sample clock; LED
 * tables of 1024 entries) are the firmware's alone (intended difference, intended-differences.test.ts): for
 * that pair an edge value moves to the nearest one the board takes, so the rest of the sequence still compares.
 */
function keepInsideSampleClock(c: AcquisitionConfigInit, pair: Pair): void {
  const fs = c.sampleRateHz ?? 0;
  if (pair.sampleClockHz === null || !(fs > 0) || !fitsSampleClock(pair, fs)) return;
  let o = c.oversampling ?? 0;
  while (o > 1 && !fitsSampleClock(pair, fs * o)) o--;
  c.oversampling = o;
  // and its LED-table rules: a TDM cycle, and all carriers together, repeat within max_drive_period_samples
  const max = pair.maxDrivePeriodSamples;
  const leds = c.leds ?? [];
  const td = c.timeDivision;
  if (max !== null && c.mode === M.MODULATION_MODE_TIME_DIVISION && td) {
    const slots = leds.length + (td.darkSlot ? 1 : 0);
    if (slots > 0 && slots * (td.slotSamples ?? 0) > max) td.slotSamples = Math.floor(max / slots);
  }
  if (max === null || c.mode !== M.MODULATION_MODE_LOCK_IN || leds.length === 0) return;
  const whole = (x: number): boolean => Math.abs(x - Math.round(x)) < 1e-9;
  for (let n = 1; n <= max; n++) if (leds.every((l) => whole(((l.carrierHz ?? 0) * n) / fs))) return;
  const step = fs / CARRIER_PERIOD_SAMPLES;
  for (const l of leds) if (Number.isFinite(l.carrierHz)) l.carrierHz = Math.round((l.carrierHz ?? 0) / step) * step;
}

function calibrationTable(rng: Rng, board: BoardDefinition): CalibrationTableInit {
  const leds = rng.some(board.leds, rng.int(1, board.leds.length)).map((l) => {
    const n = rng.int(2, 4);
    const points = Array.from({ length: n }, (_, j) => ({ currentMa: (l.maxCurrentPulsedMa * (j + 1)) / n, powerUw: 20 * (j + 1) * (1 + rng.int(0, 3)) }));
    points.sort((a, b) => a.currentMa - b.currentMa);
    for (let j = 1; j < n; j++) points[j]!.powerUw = Math.max(points[j]!.powerUw, points[j - 1]!.powerUw + 1);
    return { channel: l.id, wavelengthNm: rng.chance(0.5) ? 0 : l.wavelengthNm, points, calibratedUnixS: 1_700_000_000, label: 'diff' };
  });
  const bad = rng.chance(0.5) ? rng.int(0, 7) : -1;
  const first = leds[0]!;
  if (bad === 0) first.points = first.points.slice(0, 1);
  if (bad === 1) first.channel = 99;
  if (bad === 2) first.wavelengthNm = 1;
  if (bad === 3) first.points[1]!.currentMa = first.points[0]!.currentMa;
  if (bad === 4) first.points[1]!.powerUw = first.points[0]!.powerUw - 1;
  if (bad === 5) first.points[first.points.length - 1]!.currentMa = board.leds[0]!.maxCurrentPulsedMa + 0.5;
  if (bad === 6) leds.push({ ...first });
  if (bad === 7) first.points = Array.from({ length: 25 }, (_, j) => ({ currentMa: j + 1, powerUw: j + 1 }));
  return { leds };
}

function garbage(b: Builder): void {
  const rng = b.rng;
  switch (rng.int(0, 6)) {
    case 0: {
      // random bytes then a delimiter: COBS or CRC failure
      const n = rng.int(1, 40);
      const bytes = new Uint8Array(n + 1);
      for (let i = 0; i < n; i++) bytes[i] = rng.int(1, 255);
      b.raw(bytes, 'garbage');
      return;
    }
    case 1: {
      // a real frame cut short, then the delimiter
      const f = frameEnvelope({ requestId: 77, getInfo: {} });
      const cut = f.slice(0, rng.int(1, f.length - 2));
      b.raw(Uint8Array.from([...cut, 0]), 'truncated');
      return;
    }
    case 2: {
      // longer than max_frame_bytes without a delimiter, then one
      const bytes = new Uint8Array(MAX_FRAME_BYTES + rng.int(1, 64) + 1).fill(0x55);
      bytes[bytes.length - 1] = 0;
      b.raw(bytes, 'oversized');
      return;
    }
    case 3:
      // CRC right, not an Envelope
      b.raw(encodeFrame(Uint8Array.from([0x08, 0x2a, 0x0f, 0xff, 0xff])), 'undecodable');
      return;
    case 4:
      // a string beyond its nanopb bound (Hello.host_name max_size 48)
      b.send({ hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'h'.repeat(rng.pick([47, 48, 60])) } }, 'hello-long-name');
      return;
    case 5: {
      // one good frame delivered in two writes
      const f = frameEnvelope({ requestId: 9000 + rng.int(0, 99), getInfo: {} });
      const at = rng.int(1, f.length - 1);
      b.raw(f.slice(0, at), 'split-1');
      b.advance(rng.int(0, 2));
      b.raw(f.slice(at), 'split-2');
      return;
    }
    default:
      // an Envelope with a request id and no body
      b.raw(encodeFrame(encodeEnvelope({ requestId: 4242 })), 'empty-body');
  }
}

function setLed(b: Builder, board: BoardDefinition): void {
  const rng = b.rng;
  const ch = rng.chance(0.9) ? rng.pick(board.leds).id : 99;
  const limit = ledLimit(board, ch);
  if (rng.chance(0.15)) b.send({ setLed: { channel: ch, powerUw: rng.pick([0, 30, 5000]) } });
  else b.send({ setLed: { channel: ch, currentMa: rng.pick([0, 1, 5.5, limit, limit + 0.01, -1, Math.round(rng.next() * limit)]) } });
}

/** One random sequence for `pair`, fully determined by `seed`. */
export function generateSequence(seed: number, pair: Pair): Sequence {
  const rng = new Rng(seed);
  const b = new Builder(rng);
  const board = pair.board;
  if (rng.chance(0.95)) b.send({ hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'differential' } });
  else if (rng.chance(0.5)) b.send({ hello: { protocol: { major: PROTOCOL_VERSION.major + 1, minor: 0 }, hostName: 'differential' } });
  if (rng.chance(0.15)) {
    b.send({ writeCalibration: { table: calibrationTable(rng, board) } });
  }
  const ops = rng.int(3, 9);
  for (let i = 0; i < ops; i++) {
    const r = rng.next();
    if (r < 0.16) {
      const c = validConfig(rng, pair);
      if (rng.chance(0.5)) rng.pick(MUTATIONS)(c, board, rng);
      keepInsideSampleClock(c, pair);
      b.send({ configure: { config: c } });
      b.configured = true;
    } else if (r < 0.28) {
      // a run: an accepted Configure, Start, then SetLed and heartbeats (or silence) while blocks flow
      const c = validConfig(rng, pair);
      keepInsideSampleClock(c, pair);
      b.send({ configure: { config: c } });
      b.send({ start: {} });
      for (let k = rng.int(1, 4); k > 0; k--) {
        if (rng.chance(0.15)) b.stall(rng.pick([20, 60, 200]));
        else b.advance(rng.pick([1, 4, 10, 30, 60]));
        if (rng.chance(0.6)) setLed(b, board);
        else b.send({ heartbeat: { hostTimeUs: rng.int(0, 1e9) } });
      }
    } else if (r < 0.34) {
      b.send({ start: {} });
    } else if (r < 0.42) {
      b.send({ stop: {} });
    } else if (r < 0.52) {
      setLed(b, board);
    } else if (r < 0.58) {
      b.send({ heartbeat: { hostTimeUs: rng.int(0, 1e9) } });
    } else if (r < 0.72) {
      b.advance(rng.pick([1, 3, 10, 25, 50, 120, 260]));
    } else if (r < 0.77) {
      b.send({ writeCalibration: { table: calibrationTable(rng, board) } });
    } else if (r < 0.8) {
      b.send({ readCalibration: {} });
    } else if (r < 0.84) {
      b.send(rng.chance(0.5) ? { getInfo: {} } : { selfTest: {} });
    } else if (r < 0.88) {
      b.send({ reset: {} });
      if (rng.chance(0.7)) b.send({ hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'differential' } });
    } else {
      garbage(b);
    }
  }
  // let the run produce what it owes (blocks, Status, a watchdog trip), then stop it
  b.advance(rng.pick([5, 40, 150]));
  if (rng.chance(0.5)) b.send({ stop: {} });
  b.advance(2);
  return { seed, pair: pair.name, steps: b.steps };
}
