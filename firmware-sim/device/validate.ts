// Validation of an AcquisitionConfig (and of SetLed) against a board: pure
// functions returning either a normalized configuration or the Issue the
// device reports (ErrorCode, message, dotted field path such as
// "config.leds[1].carrier_hz"). The first violation found is reported.
// One unit: every rule an AcquisitionConfig (and SetLed) must meet on a board, checked in one order so the first violation is the one reported.
//
// Error codes: a nonsensical or inconsistent value is INVALID_CONFIG; a value
// beyond what this board can do (rate, block size, oversampling, mode) is
// UNSUPPORTED; an id the board does not have is UNKNOWN_CHANNEL; an LED current
// above its limit is LIMIT_EXCEEDED; power_uw without (or outside) a stored
// calibration is NOT_CALIBRATED.
//
// LED limits: CONTINUOUS levels and LOCK_IN peaks <= max_current_continuous_ma.
// TIME_DIVISION pulses <= max_current_pulsed_ma AND the average current
// (pulse x on_samples / cycle_samples) <= max_current_continuous_ma.
//
// Lock-in carrier rules (LOCK_IN_RULES; the host demodulates with a low-pass of
// about DEMOD_BANDWIDTH_HZ = 10 Hz, so anything within 4x that of a carrier
// leaks into its output):
//  1. 0 < carrier, finite; carrier >= 40 Hz (at least the minimum spacing away
//     from DC, where the signal and 1/f noise live);
//  2. carrier <= 0.45 x sample_rate_hz (room for the anti-alias roll-off);
//  3. carriers pairwise >= 40 Hz apart (4 x the demodulation bandwidth);
//     a conflict between carriers is reported on the later-listed one;
//  4. a carrier >= 40 Hz away from the 2nd and 3rd harmonics of every other
//     carrier, and from the 2nd- and 3rd-order intermodulation products of
//     every other pair (f_j + f_k, |f_j - f_k|, |2 f_j - f_k|, |2 f_k - f_j|):
//     LED drivers and photodiodes are not perfectly linear;
//  5. a carrier >= 10 Hz (one demodulation bandwidth) away from mains, 50 and
//     60 Hz, and their harmonics up to the 6th (100/120 Hz lamp flicker
//     included, up to 300/360 Hz).
// Every product frequency is first folded into [0, fs/2] (aliasing), since
// that is where the ADC sees it.
import {
  encodeEnvelope, ErrorCode, HEARTBEAT_TIMEOUT_RANGE_MS, ModulationMode, SampleSource, STATUS_INTERVAL_RANGE_MS, type AcquisitionConfigInit,
} from '../../protocol/index.ts';
import type { BoardDefinition } from './board.ts';
import type { CalibrationMap } from './calibration.ts';
import { type Issue, issue, num } from './issue.ts';

export const LOCK_IN_RULES = Object.freeze({
  demodBandwidthHz: 10,
  minSpacingHz: 40,
  minCarrierHz: 40,
  maxCarrierFractionOfRate: 0.45,
  harmonicOrders: Object.freeze([2, 3]),
  mainsHz: Object.freeze([50, 60]),
  mainsHarmonics: 6,
  mainsGuardHz: 10,
});

// the watchdog and status ranges are the wire contract's (protocol/src/limits.ts), shared with the host
export { HEARTBEAT_TIMEOUT_RANGE_MS, STATUS_INTERVAL_RANGE_MS };

export interface NormalizedLed {
  channel: number;
  /** Position of the channel in board.leds. */
  boardIndex: number;
  /** CONTINUOUS level, TDM pulse or LOCK_IN peak, mA (converted from power_uw when given so). */
  peakMa: number;
  /** The requested power when the drive was given as power_uw, else undefined. */
  powerUw: number | undefined;
  /** LOCK_IN carrier, Hz (0 in other modes). */
  carrierHz: number;
}

export interface NormalizedTiming {
  slotSamples: number;
  onSamples: number;
  settleSamples: number;
  windowSamples: number;
  darkSlot: boolean;
  /** (LEDs + dark slot) x slot_samples. */
  cycleSamples: number;
}

export interface NormalizedConfig {
  mode: number;
  sampleRateHz: number;
  leds: NormalizedLed[];
  detectorIds: number[];
  /** Position of each configured detector in board.detectors. */
  detectorBoardIndex: number[];
  oversampling: number;
  timeDivision: NormalizedTiming | null;
  /** blockSamples: aux samples per channel per aux block (AuxConfig.block_samples, or block_samples when 0). */
  aux: { inputIds: number[]; boardIndex: number[]; rateHz: number; divider: number; blockSamples: number } | null;
  digitalInputIds: number[];
  syncOut: { line: number; periodSamples: number; pulseSamples: number } | null;
  blockSamples: number;
  heartbeatTimeoutMs: number;
  statusIntervalMs: number;
}

export type ValidationResult = { ok: true; config: NormalizedConfig } | { ok: false; issue: Issue };

const fail = (i: Issue): ValidationResult => ({ ok: false, issue: i });

/** Distance of `f` from 0 after folding at the sample rate: the alias frequency in [0, fs/2]. */
export function foldHz(f: number, sampleRateHz: number): number {
  return Math.abs(f - sampleRateHz * Math.round(f / sampleRateHz));
}

const ORDINAL = ['', '1st', '2nd', '3rd', '4th', '5th', '6th'];

/**
 * Checks rules 3-5 for carrier `i` against the carriers listed before it, so
 * that a conflict is reported on the later-listed carrier. Returns a message or null.
 */
function carrierConflict(carriers: readonly number[], i: number, fs: number): string | null {
  const r = LOCK_IN_RULES;
  const f = carriers[i]!;
  const near = (a: number, b: number): boolean => Math.abs(a - b) < r.minSpacingHz;
  for (const mains of r.mainsHz) {
    for (let k = 1; k <= r.mainsHarmonics; k++) {
      const m = foldHz(k * mains, fs);
      if (Math.abs(f - m) < r.mainsGuardHz) return `carrier ${num(f)} Hz within ${r.mainsGuardHz} Hz of mains ${k * mains} Hz`;
    }
  }
  for (let j = 0; j < i; j++) {
    const g = carriers[j]!;
    if (near(f, g)) return `carriers ${num(g)} and ${num(f)} Hz closer than ${r.minSpacingHz} Hz`;
    for (const k of r.harmonicOrders) {
      if (near(f, foldHz(k * g, fs))) return `carrier ${num(f)} Hz within ${r.minSpacingHz} Hz of ${ORDINAL[k]} harmonic of ${num(g)} Hz`;
      if (near(g, foldHz(k * f, fs))) return `${ORDINAL[k]} harmonic of ${num(f)} Hz within ${r.minSpacingHz} Hz of carrier ${num(g)} Hz`;
    }
  }
  const products = (a: number, b: number): number[] => [a + b, Math.abs(a - b), Math.abs(2 * a - b), Math.abs(2 * b - a)].map((p) => foldHz(p, fs));
  for (let j = 0; j < i; j++) {
    for (let k = 0; k < i; k++) {
      if (k === j) continue;
      const a = carriers[j]!;
      const b = carriers[k]!;
      // carrier i on a product of two earlier carriers
      if (j < k) {
        for (const q of products(a, b)) if (near(f, q)) return `carrier ${num(f)} Hz within ${r.minSpacingHz} Hz of intermod ${num(q)} Hz of ${num(a)}/${num(b)}`;
      }
      // a product of carrier i with an earlier carrier on another earlier carrier
      for (const q of products(f, a)) if (near(b, q)) return `intermod ${num(q)} Hz of ${num(f)}/${num(a)} within ${r.minSpacingHz} Hz of carrier ${num(b)} Hz`;
    }
  }
  return null;
}

/** Largest SampleBlock envelope for the given shape (worst-case varints). */
export function sampleBlockEnvelopeBytes(sampleCount: number, channelIds: readonly number[], sampleBytes: number): number {
  return encodeEnvelope({
    requestId: 0,
    sampleBlock: {
      configId: 0xffffffff, source: SampleSource.SAMPLE_SOURCE_DETECTOR, firstSampleIndex: Number.MAX_SAFE_INTEGER,
      sampleCount, channelIds: [...channelIds], format: 2, samples: new Uint8Array(sampleBytes),
    },
  }).length;
}

function checkBlockSize(board: BoardDefinition, samples: number, channels: readonly number[], field: string, what: string): Issue | null {
  const bytes = samples * channels.length * 2;
  if (bytes > board.maxSampleBytes) {
    return issue(ErrorCode.ERROR_CODE_UNSUPPORTED, field, `${what} block of ${bytes} sample bytes exceeds ${board.maxSampleBytes}`);
  }
  const envelope = sampleBlockEnvelopeBytes(samples, channels, bytes);
  if (envelope > board.maxMessageBytes) {
    return issue(ErrorCode.ERROR_CODE_UNSUPPORTED, field, `${what} block message of ${envelope} B exceeds ${board.maxMessageBytes} B`);
  }
  return null;
}

/** Limit (mA) for a drive level in `mode`; `duty` = on/cycle for TIME_DIVISION. */
function checkCurrent(
  board: BoardDefinition, channel: number, currentMa: number, mode: number, duty: number, field: string,
): Issue | null {
  const def = board.leds.find((l) => l.id === channel)!;
  if (mode === ModulationMode.MODULATION_MODE_TIME_DIVISION) {
    if (currentMa > def.maxCurrentPulsedMa) {
      return issue(ErrorCode.ERROR_CODE_LIMIT_EXCEEDED, field, `${num(currentMa)} mA exceeds LED ${channel} pulsed limit ${num(def.maxCurrentPulsedMa)} mA`);
    }
    if (currentMa * duty > def.maxCurrentContinuousMa) {
      return issue(ErrorCode.ERROR_CODE_LIMIT_EXCEEDED, field, `average ${num(currentMa * duty)} mA exceeds LED ${channel} limit ${num(def.maxCurrentContinuousMa)} mA`);
    }
    return null;
  }
  if (currentMa > def.maxCurrentContinuousMa) {
    return issue(ErrorCode.ERROR_CODE_LIMIT_EXCEEDED, field, `${num(currentMa)} mA exceeds LED ${channel} limit ${num(def.maxCurrentContinuousMa)} mA`);
  }
  return null;
}

export interface DriveRequest {
  currentMa?: number | null;
  powerUw?: number | null;
  drive?: string;
}

/** Resolves a oneof drive (current_ma | power_uw) to a current, enforcing limits and calibration. */
export function resolveDrive(
  board: BoardDefinition, calibration: CalibrationMap, channel: number, d: DriveRequest, mode: number, duty: number, root: string,
): { ok: true; currentMa: number; powerUw: number | undefined } | { ok: false; issue: Issue } {
  const which = d.drive ?? (d.currentMa != null ? 'currentMa' : d.powerUw != null ? 'powerUw' : undefined);
  if (which === 'currentMa') {
    const ma = d.currentMa ?? 0;
    if (!Number.isFinite(ma) || ma < 0) return { ok: false, issue: issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${root}.current_ma`, `current ${num(ma)} mA is not a finite value >= 0`) };
    const limit = checkCurrent(board, channel, ma, mode, duty, `${root}.current_ma`);
    if (limit) return { ok: false, issue: limit };
    return { ok: true, currentMa: ma, powerUw: undefined };
  }
  if (which === 'powerUw') {
    const uw = d.powerUw ?? 0;
    const field = `${root}.power_uw`;
    if (!Number.isFinite(uw) || uw < 0) return { ok: false, issue: issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, field, `power ${num(uw)} uW is not a finite value >= 0`) };
    const range = calibration.rangeUw(channel);
    if (!range) return { ok: false, issue: issue(ErrorCode.ERROR_CODE_NOT_CALIBRATED, field, `LED ${channel} has no stored calibration`) };
    const ma = uw === 0 ? 0 : calibration.currentForPower(channel, uw);
    if (ma === undefined) {
      return { ok: false, issue: issue(ErrorCode.ERROR_CODE_NOT_CALIBRATED, field, `${num(uw)} uW outside LED ${channel} calibration ${num(range.minUw)}..${num(range.maxUw)} uW`) };
    }
    const limit = checkCurrent(board, channel, ma, mode, duty, field);
    if (limit) return { ok: false, issue: limit };
    return { ok: true, currentMa: ma, powerUw: uw };
  }
  return { ok: false, issue: issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${root}.current_ma`, 'needs current_ma or power_uw') };
}

function checkIds(
  ids: readonly number[], known: readonly number[], field: string, what: string,
): Issue | null {
  const seen = new Set<number>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!known.includes(id)) return issue(ErrorCode.ERROR_CODE_UNKNOWN_CHANNEL, `${field}[${i}]`, `no ${what} ${id} on this board`);
    if (seen.has(id)) return issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, `${field}[${i}]`, `${what} ${id} listed twice`);
    seen.add(id);
  }
  return null;
}

/** Validates `config` against `board` (and the stored calibration, for power_uw drives). */
export function validateConfig(config: AcquisitionConfigInit | null | undefined, board: BoardDefinition, calibration: CalibrationMap): ValidationResult {
  if (!config) return fail(issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, 'config', 'Configure carries no config'));
  const E = ErrorCode;

  // mode
  const mode = config.mode ?? 0;
  if (mode === ModulationMode.MODULATION_MODE_UNSPECIFIED) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.mode', 'mode is unspecified'));
  if (!board.modes.includes(mode)) return fail(issue(E.ERROR_CODE_UNSUPPORTED, 'config.mode', `mode ${mode} is not supported by this board`));

  // detectors (before the rate: the rate limit is per detector)
  const detectorIds = [...(config.detectorIds ?? [])];
  if (detectorIds.length === 0) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.detector_ids', 'at least one detector is needed'));
  const detIssue = checkIds(detectorIds, board.detectors.map((d) => d.id), 'config.detector_ids', 'detector');
  if (detIssue) return fail(detIssue);
  const detectorBoardIndex = detectorIds.map((id) => board.detectors.findIndex((d) => d.id === id));

  // sample rate
  const fs = config.sampleRateHz ?? 0;
  if (!(fs > 0)) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.sample_rate_hz', 'sample rate must be > 0'));
  const maxRate = Math.min(board.maxSampleRateHz, ...detectorBoardIndex.map((i) => board.detectors[i]!.maxRateHz));
  if (fs > maxRate) return fail(issue(E.ERROR_CODE_UNSUPPORTED, 'config.sample_rate_hz', `${fs} Hz exceeds the ${maxRate} Hz maximum`));

  // oversampling
  const oversampling = config.oversampling ?? 0;
  if (oversampling < 1) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.oversampling', 'oversampling must be >= 1'));
  if (oversampling > board.maxOversampling) {
    return fail(issue(E.ERROR_CODE_UNSUPPORTED, 'config.oversampling', `oversampling ${oversampling} exceeds ${board.maxOversampling}`));
  }
  if (fs * oversampling > board.maxConversionRateHz) {
    return fail(issue(E.ERROR_CODE_UNSUPPORTED, 'config.oversampling', `${fs} Hz x ${oversampling} exceeds ${board.maxConversionRateHz} conversions/s`));
  }

  // LEDs: ids and drives present
  const ledsIn = config.leds ?? [];
  const boardLedIds = board.leds.map((l) => l.id);
  if (ledsIn.length === 0 && mode !== ModulationMode.MODULATION_MODE_CONTINUOUS) {
    return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.leds', 'this mode needs at least one LED'));
  }
  const ledIdIssue = checkIds(ledsIn.map((l) => l.channel ?? 0), boardLedIds, 'config.leds', 'LED');
  if (ledIdIssue) return fail({ ...ledIdIssue, field: `${ledIdIssue.field}.channel` });

  // time-division timing (needed for the pulse limits)
  let timeDivision: NormalizedTiming | null = null;
  let duty = 1;
  if (mode === ModulationMode.MODULATION_MODE_TIME_DIVISION) {
    const td = config.timeDivision;
    const at = 'config.time_division';
    if (!td) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, at, 'TIME_DIVISION needs time_division timing'));
    const slot = td.slotSamples ?? 0;
    const on = td.onSamples ?? 0;
    const settle = td.settleSamples ?? 0;
    const window = td.windowSamples ?? 0;
    const darkSlot = td.darkSlot ?? false;
    if (slot < 1) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, `${at}.slot_samples`, 'slot_samples must be >= 1'));
    if (on < 1) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, `${at}.on_samples`, 'on_samples must be >= 1'));
    if (on > slot) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, `${at}.on_samples`, `on_samples ${on} exceeds slot_samples ${slot}`));
    if (window < 1) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, `${at}.window_samples`, 'window_samples must be >= 1'));
    if (settle + window > on) {
      return fail(issue(E.ERROR_CODE_INVALID_CONFIG, `${at}.window_samples`, `settle ${settle} + window ${window} exceeds on_samples ${on}`));
    }
    const slots = ledsIn.length + (darkSlot ? 1 : 0);
    const cycle = slots * slot;
    if (cycle > fs) {
      return fail(issue(E.ERROR_CODE_INVALID_CONFIG, `${at}.slot_samples`, `${slots} slots x ${slot} samples exceed one second (${fs} samples)`));
    }
    timeDivision = { slotSamples: slot, onSamples: on, settleSamples: settle, windowSamples: window, darkSlot, cycleSamples: cycle };
    duty = on / cycle;
  }

  // LED drives and limits
  const leds: NormalizedLed[] = [];
  for (let i = 0; i < ledsIn.length; i++) {
    const l = ledsIn[i]!;
    const channel = l.channel ?? 0;
    const r = resolveDrive(board, calibration, channel, l, mode, duty, `config.leds[${i}]`);
    if (!r.ok) return fail(r.issue);
    leds.push({
      channel, boardIndex: boardLedIds.indexOf(channel), peakMa: r.currentMa, powerUw: r.powerUw,
      carrierHz: mode === ModulationMode.MODULATION_MODE_LOCK_IN ? (l.carrierHz ?? 0) : 0,
    });
  }

  // lock-in carriers
  if (mode === ModulationMode.MODULATION_MODE_LOCK_IN) {
    const R = LOCK_IN_RULES;
    const carriers = leds.map((l) => l.carrierHz);
    for (let i = 0; i < carriers.length; i++) {
      const f = carriers[i]!;
      const field = `config.leds[${i}].carrier_hz`;
      if (!Number.isFinite(f) || f <= 0) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, field, 'LOCK_IN needs a carrier > 0 Hz'));
      if (f < R.minCarrierHz) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, field, `carrier ${num(f)} Hz below ${R.minCarrierHz} Hz`));
      if (f > R.maxCarrierFractionOfRate * fs) {
        return fail(issue(E.ERROR_CODE_INVALID_CONFIG, field, `carrier ${num(f)} Hz above ${R.maxCarrierFractionOfRate} x ${fs} Hz (Nyquist)`));
      }
    }
    for (let i = 0; i < carriers.length; i++) {
      const conflict = carrierConflict(carriers, i, fs);
      if (conflict) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, `config.leds[${i}].carrier_hz`, conflict));
    }
  }

  // block size
  const blockSamples = config.blockSamples ?? 0;
  if (blockSamples < 1) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.block_samples', 'block_samples must be >= 1'));
  if (blockSamples > board.maxBlockSamples) {
    return fail(issue(E.ERROR_CODE_UNSUPPORTED, 'config.block_samples', `block_samples ${blockSamples} exceeds ${board.maxBlockSamples}`));
  }
  const blockIssue = checkBlockSize(board, blockSamples, detectorIds, 'config.block_samples', 'detector');
  if (blockIssue) return fail(blockIssue);

  // aux inputs
  let aux: NormalizedConfig['aux'] = null;
  const auxIn = config.aux;
  const auxIds = [...(auxIn?.inputIds ?? [])];
  const auxRate = auxIn?.rateHz ?? 0;
  const auxBlockIn = auxIn?.blockSamples ?? 0;
  if (auxIds.length > 0) {
    const auxIdIssue = checkIds(auxIds, board.auxInputs.map((a) => a.id), 'config.aux.input_ids', 'aux input');
    if (auxIdIssue) return fail(auxIdIssue);
    const boardIndex = auxIds.map((id) => board.auxInputs.findIndex((a) => a.id === id));
    if (auxRate < 1) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.aux.rate_hz', 'aux rate must be > 0'));
    const auxMax = Math.min(...boardIndex.map((i) => board.auxInputs[i]!.maxRateHz));
    if (auxRate > auxMax) return fail(issue(E.ERROR_CODE_UNSUPPORTED, 'config.aux.rate_hz', `aux rate ${auxRate} Hz exceeds ${auxMax} Hz`));
    if (fs % auxRate !== 0) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.aux.rate_hz', `aux rate ${auxRate} Hz does not divide ${fs} Hz`));
    // aux block size: its own (1.2) or, when 0, the detectors' block_samples as before
    const auxBlockField = auxBlockIn > 0 ? 'config.aux.block_samples' : 'config.block_samples';
    const auxBlock = auxBlockIn > 0 ? auxBlockIn : blockSamples;
    if (auxBlock > board.maxBlockSamples) {
      return fail(issue(E.ERROR_CODE_UNSUPPORTED, auxBlockField, `aux block_samples ${auxBlock} exceeds ${board.maxBlockSamples}`));
    }
    const auxBlockIssue = checkBlockSize(board, auxBlock, auxIds, auxBlockField, 'aux');
    if (auxBlockIssue) return fail(auxBlockIssue);
    aux = { inputIds: auxIds, boardIndex, rateHz: auxRate, divider: fs / auxRate, blockSamples: auxBlock };
  } else if (auxRate !== 0) {
    return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.aux.input_ids', 'aux rate given but no aux inputs'));
  } else if (auxBlockIn !== 0) {
    return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.aux.input_ids', 'aux block_samples given but no aux inputs'));
  }

  // digital inputs
  const digitalInputIds = [...(config.digitalInputIds ?? [])];
  const digIssue = checkIds(digitalInputIds, board.digitalLines.map((d) => d.id), 'config.digital_input_ids', 'digital line');
  if (digIssue) return fail(digIssue);
  for (let i = 0; i < digitalInputIds.length; i++) {
    const line = board.digitalLines.find((d) => d.id === digitalInputIds[i])!;
    if (line.direction !== 'input') return fail(issue(E.ERROR_CODE_INVALID_CONFIG, `config.digital_input_ids[${i}]`, `line ${line.id} is an output`));
  }

  // sync output
  let syncOut: NormalizedConfig['syncOut'] = null;
  if (config.syncOut?.enabled) {
    const s = config.syncOut;
    const line = s.line ?? 0;
    const def = board.digitalLines.find((d) => d.id === line);
    if (!def) return fail(issue(E.ERROR_CODE_UNKNOWN_CHANNEL, 'config.sync_out.line', `no digital line ${line} on this board`));
    if (def.direction !== 'output') return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.sync_out.line', `line ${line} is not an output`));
    const period = s.periodSamples ?? 0;
    const pulse = s.pulseSamples ?? 0;
    if (period < 2) return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.sync_out.period_samples', 'period_samples must be >= 2'));
    if (pulse < 1 || pulse >= period) {
      return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.sync_out.pulse_samples', `pulse_samples must be 1..${period - 1}`));
    }
    syncOut = { line, periodSamples: period, pulseSamples: pulse };
  }

  // heartbeat watchdog and status cadence (0 = device default)
  const hb = config.heartbeatTimeoutMs || board.defaultHeartbeatTimeoutMs;
  if (hb < HEARTBEAT_TIMEOUT_RANGE_MS.min || hb > HEARTBEAT_TIMEOUT_RANGE_MS.max) {
    return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.heartbeat_timeout_ms', `heartbeat timeout must be ${HEARTBEAT_TIMEOUT_RANGE_MS.min}..${HEARTBEAT_TIMEOUT_RANGE_MS.max} ms`));
  }
  const st = config.statusIntervalMs || board.defaultStatusIntervalMs;
  if (st < STATUS_INTERVAL_RANGE_MS.min || st > STATUS_INTERVAL_RANGE_MS.max) {
    return fail(issue(E.ERROR_CODE_INVALID_CONFIG, 'config.status_interval_ms', `status interval must be ${STATUS_INTERVAL_RANGE_MS.min}..${STATUS_INTERVAL_RANGE_MS.max} ms`));
  }

  return {
    ok: true,
    config: {
      mode, sampleRateHz: fs, leds, detectorIds, detectorBoardIndex, oversampling, timeDivision, aux, digitalInputIds, syncOut,
      blockSamples, heartbeatTimeoutMs: hb, statusIntervalMs: st,
    },
  };
}

/** Validates SetLed against the board, the configuration in force and the calibration. */
export function validateSetLed(
  setLed: { channel?: number | null } & DriveRequest | null | undefined,
  board: BoardDefinition, config: NormalizedConfig | null, calibration: CalibrationMap,
): { ok: true; ledIndex: number; currentMa: number; powerUw: number | undefined } | { ok: false; issue: Issue } {
  const E = ErrorCode;
  const channel = setLed?.channel ?? 0;
  if (!board.leds.some((l) => l.id === channel)) return { ok: false, issue: issue(E.ERROR_CODE_UNKNOWN_CHANNEL, 'set_led.channel', `no LED channel ${channel} on this board`) };
  if (!config) return { ok: false, issue: issue(E.ERROR_CODE_NOT_CONFIGURED, 'set_led', 'SetLed needs an accepted Configure') };
  const ledIndex = config.leds.findIndex((l) => l.channel === channel);
  if (ledIndex < 0) return { ok: false, issue: issue(E.ERROR_CODE_INVALID_CONFIG, 'set_led.channel', `LED ${channel} is not in the configuration`) };
  const duty = config.timeDivision ? config.timeDivision.onSamples / config.timeDivision.cycleSamples : 1;
  const r = resolveDrive(board, calibration, channel, setLed ?? {}, config.mode, duty, 'set_led');
  if (!r.ok) return r;
  return { ok: true, ledIndex, currentMa: r.currentMa, powerUw: r.powerUw };
}
