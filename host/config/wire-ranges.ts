// Ranges of the acquisition config's numbers, checked on the host before a
// Configure leaves it. protobufjs writes a uint32 as `value >>> 0`: 4294977296 Hz
// arrives as 10000 Hz, LED 2^32 as LED 0, a 2^40 ms heartbeat timeout as 0 (the
// device's default), -1 as 4294967295; a float32 past 3.4e38 arrives as Infinity.
// The device cannot see that a value wrapped, so each number is checked here
// against its wire type AND what it means (the bounds below, with their reason);
// given the device's DeviceInfo, ids must also exist on it and the rate must be
// within its maximum. The device still checks everything it can
// (firmware-sim/device/validate.ts, hardware/firmware/core/fr_validate.c).
import {
  type AcquisitionConfigInit, type DeviceInfo, FiberrigError, HEARTBEAT_TIMEOUT_RANGE_MS, MAX_MESSAGE_BYTES, ModulationMode,
  STATUS_INTERVAL_RANGE_MS,
} from '../../protocol/index.ts';

export const UINT32_MAX = 0xffff_ffff;

export interface Range {
  min: number;
  max: number;
}

/** Physical bounds of the config's numbers; every one is also inside its wire type. */
export const CONFIG_RANGES = Object.freeze({
  /** LED, detector, aux and digital-line ids: small board indices (the firmware holds at most 8 of each). */
  id: { min: 0, max: 255 },
  /** ADC rate per detector, Hz: no photometry front end samples faster than 10 MS/s. */
  sampleRateHz: { min: 1, max: 10_000_000 },
  /** Conversions averaged per sample. */
  oversampling: { min: 1, max: 65_535 },
  /** Samples per channel per block: one channel of 16-bit samples must fit one message. */
  blockSamples: { min: 1, max: Math.floor(MAX_MESSAGE_BYTES / 2) },
  /** The device's watchdog range (0 on the wire = the device's default). */
  heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_RANGE_MS,
  /** The device's status cadence range (0 on the wire = the device's default). */
  statusIntervalMs: STATUS_INTERVAL_RANGE_MS,
  /** LED drive, mA: fiber photometry LEDs take tens to hundreds of mA; 10 A is no LED's. */
  currentMa: { min: 0, max: 10_000 },
  /** Light at the fiber tip, µW: 1 W would burn tissue. */
  powerUw: { min: 0, max: 1_000_000 },
} satisfies Record<string, Range>);

export interface RangeIssue {
  /** Path of the field, e.g. "leds[1].channel". */
  field: string;
  message: string;
}

/** A config number outside its wire type or its physical range; `issues` names every offending field. */
export class ConfigRangeError extends FiberrigError {
  readonly issues: readonly RangeIssue[];

  constructor(issues: readonly RangeIssue[], origin = 'configuration') {
    super(
      'E_CONFIG_RANGE',
      `${origin} has values out of range:\n  ${issues.map((i) => `${i.field}: ${i.message}`).join('\n  ')}`,
      'bring each field named above into the range given (README, "Acquisition config"); nothing was sent to the device',
    );
    this.name = 'ConfigRangeError';
    this.issues = issues;
  }
}

const show = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v));
const present = (v: number | null | undefined): v is number => v !== undefined && v !== null;

/** Why `v` is not an integer in [min, max] (and a uint32), or null. */
export function intRangeProblem(v: number, range: Range, unit = ''): string | null {
  const u = unit ? ` ${unit}` : '';
  if (typeof v !== 'number' || !Number.isInteger(v)) return `${show(v)} is not an integer; give a whole number in ${range.min}..${range.max}${u}`;
  if (v < 0 || v > UINT32_MAX) return `${show(v)} does not fit the wire's uint32 (0..${UINT32_MAX}); give ${range.min}..${range.max}${u}`;
  if (v < range.min || v > range.max) return `${show(v)} is outside ${range.min}..${range.max}${u}`;
  return null;
}

/** Why `v` is not a finite number in [min, max] (exclusive of min when `aboveMin`), or null. */
export function floatRangeProblem(v: number, range: Range, unit: string, aboveMin = false): string | null {
  const span = aboveMin ? `a number above ${range.min} and at most ${range.max} ${unit}` : `${range.min}..${range.max} ${unit}`;
  if (typeof v !== 'number' || !Number.isFinite(v)) return `${show(v)} is not a finite number; give ${span}`;
  if (v < range.min || (aboveMin && v === range.min) || v > range.max) return `${show(v)} is outside ${span}`;
  return null;
}

const MODES = new Set<number>([ModulationMode.MODULATION_MODE_CONTINUOUS, ModulationMode.MODULATION_MODE_TIME_DIVISION, ModulationMode.MODULATION_MODE_LOCK_IN]);

/**
 * Every range problem of `config` (wire field names, e.g. "leds[1].channel", "detectorIds[0]"); empty when
 * none. Absent fields are left to the device (proto3 sends them as 0). With `info`, ids must exist on that
 * device and the sample rate and block size must be within its maxima.
 */
export function wireRangeIssues(config: AcquisitionConfigInit, info?: DeviceInfo): RangeIssue[] {
  const R = CONFIG_RANGES;
  const issues: RangeIssue[] = [];
  const check = (field: string, problem: string | null): boolean => {
    if (problem) issues.push({ field, message: problem });
    return problem === null;
  };
  const exists = (field: string, id: number, what: string, known: readonly number[] | undefined): void => {
    if (known && !known.includes(id)) issues.push({ field, message: `${what} ${id} does not exist on this device (it has ${known.length ? known.join(', ') : 'none'}); use one of those` });
  };
  const ids = (field: string, list: readonly number[] | null | undefined, what: string, known: readonly number[] | undefined): void => {
    (list ?? []).forEach((id, i) => {
      if (check(`${field}[${i}]`, intRangeProblem(id, R.id))) exists(`${field}[${i}]`, id, what, known);
    });
  };

  if (present(config.mode) && !MODES.has(config.mode)) {
    issues.push({ field: 'mode', message: `${String(config.mode)} is not a modulation mode; give CONTINUOUS (1), TIME_DIVISION (2) or LOCK_IN (3)` });
  }
  let rateHz = R.sampleRateHz.max; // the bound for fields measured against the rate, when the rate itself is bad
  if (present(config.sampleRateHz) && check('sampleRateHz', intRangeProblem(config.sampleRateHz, R.sampleRateHz, 'Hz'))) {
    rateHz = config.sampleRateHz;
    if (info?.maxSampleRateHz && rateHz > info.maxSampleRateHz) {
      issues.push({ field: 'sampleRateHz', message: `${rateHz} Hz is above this device's ${info.maxSampleRateHz} Hz maximum` });
    }
  }
  const lockIn = config.mode === ModulationMode.MODULATION_MODE_LOCK_IN;
  (config.leds ?? []).forEach((led, i) => {
    const at = `leds[${i}]`;
    if (present(led.channel) && check(`${at}.channel`, intRangeProblem(led.channel, R.id))) exists(`${at}.channel`, led.channel, 'LED', info?.leds.map((l) => l.id));
    if (present(led.currentMa)) check(`${at}.currentMa`, floatRangeProblem(led.currentMa, R.currentMa, 'mA'));
    if (present(led.powerUw)) check(`${at}.powerUw`, floatRangeProblem(led.powerUw, R.powerUw, 'µW'));
    // a carrier is a frequency the ADC must see: at most half the sample rate (the device's rules are tighter)
    if (present(led.carrierHz)) check(`${at}.carrierHz`, floatRangeProblem(led.carrierHz, { min: 0, max: rateHz / 2 }, 'Hz (half the sample rate)', lockIn));
  });
  ids('detectorIds', config.detectorIds, 'detector', info?.detectors.map((d) => d.id));
  if (present(config.oversampling)) check('oversampling', intRangeProblem(config.oversampling, R.oversampling));
  const td = config.timeDivision;
  if (td) {
    // one TDM cycle fits in one second: every count is at most one second of samples
    const second = (min: number): Range => ({ min, max: rateHz });
    const unit = 'samples (one second at sampleRateHz)';
    if (present(td.slotSamples)) check('timeDivision.slotSamples', intRangeProblem(td.slotSamples, second(1), unit));
    if (present(td.onSamples)) check('timeDivision.onSamples', intRangeProblem(td.onSamples, second(1), unit));
    if (present(td.settleSamples)) check('timeDivision.settleSamples', intRangeProblem(td.settleSamples, second(0), unit));
    if (present(td.windowSamples)) check('timeDivision.windowSamples', intRangeProblem(td.windowSamples, second(1), unit));
  }
  const aux = config.aux;
  if (aux) {
    ids('aux.inputIds', aux.inputIds, 'aux input', info?.auxInputs.map((a) => a.id));
    const hasInputs = (aux.inputIds ?? []).length > 0;
    if (present(aux.rateHz)) check('aux.rateHz', intRangeProblem(aux.rateHz, { min: hasInputs ? 1 : 0, max: rateHz }, 'Hz (at most sampleRateHz, which it divides)'));
    // 0 = the detectors' blockSamples (as before protocol 1.2)
    if (present(aux.blockSamples) && aux.blockSamples !== 0
      && check('aux.blockSamples', intRangeProblem(aux.blockSamples, R.blockSamples, 'samples (or 0: blockSamples)'))
      && info?.maxBlockSamples && aux.blockSamples > info.maxBlockSamples) {
      issues.push({ field: 'aux.blockSamples', message: `${aux.blockSamples} is above this device's ${info.maxBlockSamples} maximum` });
    }
  }
  const lines = info?.digitalLines.map((d) => d.id);
  ids('digitalInputIds', config.digitalInputIds, 'digital line', lines);
  const sync = config.syncOut;
  if (sync) {
    if (present(sync.line) && check('syncOut.line', intRangeProblem(sync.line, R.id)) && sync.enabled) exists('syncOut.line', sync.line, 'digital line', lines);
    // a pulse period has no physical bound short of the wire's: 2^32-1 samples is days at 10 kS/s
    const period = present(sync.periodSamples) ? sync.periodSamples : 0;
    const periodOk = !present(sync.periodSamples) || check('syncOut.periodSamples', intRangeProblem(period, { min: sync.enabled ? 2 : 0, max: UINT32_MAX }, 'samples'));
    if (present(sync.pulseSamples)) {
      const max = sync.enabled && periodOk && period >= 2 ? period - 1 : UINT32_MAX;
      check('syncOut.pulseSamples', intRangeProblem(sync.pulseSamples, { min: sync.enabled ? 1 : 0, max }, 'samples (shorter than periodSamples)'));
    }
  }
  if (present(config.blockSamples) && check('blockSamples', intRangeProblem(config.blockSamples, R.blockSamples, 'samples'))) {
    if (info?.maxBlockSamples && config.blockSamples > info.maxBlockSamples) {
      issues.push({ field: 'blockSamples', message: `${config.blockSamples} is above this device's ${info.maxBlockSamples} maximum` });
    }
  }
  // 0 asks for the device's default
  if (present(config.heartbeatTimeoutMs) && config.heartbeatTimeoutMs !== 0) check('heartbeatTimeoutMs', intRangeProblem(config.heartbeatTimeoutMs, R.heartbeatTimeoutMs, 'ms (or 0: device default)'));
  if (present(config.statusIntervalMs) && config.statusIntervalMs !== 0) check('statusIntervalMs', intRangeProblem(config.statusIntervalMs, R.statusIntervalMs, 'ms (or 0: device default)'));
  return issues;
}

/** Throws ConfigRangeError naming every field of `config` out of range (see wireRangeIssues). */
export function assertWireRanges(config: AcquisitionConfigInit, info?: DeviceInfo): void {
  const issues = wireRangeIssues(config, info);
  if (issues.length > 0) throw new ConfigRangeError(issues);
}

/** The same checks for SetLed (field names "channel", "currentMa", "powerUw"). */
export function assertSetLedRanges(channel: number, drive: { currentMa?: number; powerUw?: number }, info?: DeviceInfo): void {
  const issues: RangeIssue[] = [];
  const idProblem = intRangeProblem(channel, CONFIG_RANGES.id);
  if (idProblem) issues.push({ field: 'channel', message: idProblem });
  else if (info && !info.leds.some((l) => l.id === channel)) issues.push({ field: 'channel', message: `LED ${channel} does not exist on this device (it has ${info.leds.map((l) => l.id).join(', ') || 'none'}); use one of those` });
  const ma = drive.currentMa !== undefined ? floatRangeProblem(drive.currentMa, CONFIG_RANGES.currentMa, 'mA') : null;
  if (ma) issues.push({ field: 'currentMa', message: ma });
  const uw = drive.powerUw !== undefined ? floatRangeProblem(drive.powerUw, CONFIG_RANGES.powerUw, 'µW') : null;
  if (uw) issues.push({ field: 'powerUw', message: uw });
  if (issues.length > 0) throw new ConfigRangeError(issues, 'SetLed');
}
