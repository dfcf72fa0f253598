// The self-test's judgements: pure functions from measurements to report
// lines. run.ts makes the measurements; everything that decides PASS, WARN,
// FAIL or N/A is here, testable without a device.
import { SelfTestOutcome } from '../../protocol/index.ts';
import type { SelfTestLimits } from './limits.ts';
import type { RateFit, WindowStats } from './stats.ts';
import type { Outcome, SelfTestLine } from './types.ts';

const pct = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)} %`;
const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const signed = (x: number, digits = 0): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

export interface DetectorDesc {
  id: number;
  label: string;
  adcBits: number;
  fullScaleV: number;
}

export const maxCodeOf = (d: DetectorDesc): number => 2 ** d.adcBits - 1;
const detName = (d: DetectorDesc): string => `detector ${d.id}${d.label ? ` (${d.label})` : ''}`;

// ------------------------------------------------------------- handshake

export function handshakeLine(result: { ok: true; protocol: string; firmware: string; board: string; serial: string; buildId: string } | { ok: false; error: string }): SelfTestLine {
  if (!result.ok) return { id: 'handshake', title: 'handshake and firmware version', outcome: 'FAIL', detail: result.error };
  return {
    id: 'handshake', title: 'handshake and firmware version', outcome: 'PASS',
    detail: `protocol ${result.protocol}, firmware ${result.firmware}${result.buildId ? ` (build ${result.buildId})` : ''}, board ${result.board}, serial ${result.serial}`,
  };
}

const DEVICE_OUTCOME: Record<number, Outcome> = {
  [SelfTestOutcome.SELF_TEST_OUTCOME_PASS]: 'PASS',
  [SelfTestOutcome.SELF_TEST_OUTCOME_WARN]: 'WARN',
  [SelfTestOutcome.SELF_TEST_OUTCOME_FAIL]: 'FAIL',
  [SelfTestOutcome.SELF_TEST_OUTCOME_NOT_APPLICABLE]: 'N/A',
};

/** The device's own self-test items (SelfTestReport), one line each. */
export function deviceItemLines(items: ReadonlyArray<{ name: string; outcome: number; detail: string; value: number; unit: string }>): SelfTestLine[] {
  return items.map((item) => ({
    id: `device.${item.name}`,
    title: `device self-test: ${item.name}`,
    outcome: DEVICE_OUTCOME[item.outcome] ?? 'WARN',
    detail: item.detail + (DEVICE_OUTCOME[item.outcome] ? '' : ` (unknown outcome ${item.outcome})`),
    ...(item.unit ? { value: item.value, unit: item.unit } : {}),
  }));
}

// -------------------------------------------------------------- detectors

/** Most dark samples at the top code, or a dark level near full scale. */
export function isSaturated(stats: WindowStats, maxCode: number, limits: SelfTestLimits): boolean {
  return stats.count > 0 && (stats.atMax > 0.5 * stats.count || stats.mean >= limits.saturatedFractionFs * maxCode);
}

export function offsetLine(d: DetectorDesc, dark: WindowStats, limits: SelfTestLimits): SelfTestLine {
  const id = `detector.${d.id}.offset`;
  const title = `${detName(d)} offset`;
  const maxCode = maxCodeOf(d);
  if (dark.count === 0) return { id, title, outcome: 'FAIL', detail: 'no samples arrived' };
  if (isSaturated(dark, maxCode, limits)) return { id, title, outcome: 'N/A', detail: 'not measurable: the detector is saturated (see headroom)' };
  const mv = (dark.mean / (maxCode + 1)) * d.fullScaleV * 1000;
  const base = `dark level ${fmt(dark.mean, 1)} codes = ${fmt(mv, 2)} mV (${pct(dark.mean / maxCode, 2)} FS)`;
  if (dark.atZero > limits.offsetZeroFraction * dark.count) {
    return { id, title, outcome: 'FAIL', detail: `${base}; ${pct(dark.atZero / dark.count, 0)} of samples read 0: a negative offset is clipped and small signals are lost`, value: mv, unit: 'mV' };
  }
  if (dark.mean > limits.offsetWarnFractionFs * maxCode) {
    return { id, title, outcome: 'WARN', detail: `${base}: above ${pct(limits.offsetWarnFractionFs, 0)} FS (offset or light leak)`, value: mv, unit: 'mV' };
  }
  return { id, title, outcome: 'PASS', detail: base, value: mv, unit: 'mV' };
}

/**
 * `synthetic`: the device says its ADC cannot be tested (an emulated or
 * host-built target with a modelled front end); a perfectly constant reading
 * is then the model being noise-free, not a stuck ADC, and the check is N/A.
 */
export function noiseLine(d: DetectorDesc, dark: WindowStats, sampleRateHz: number, limits: SelfTestLimits, synthetic = false): SelfTestLine {
  const id = `detector.${d.id}.noise`;
  const title = `${detName(d)} dark noise`;
  const maxCode = maxCodeOf(d);
  if (dark.count === 0) return { id, title, outcome: 'FAIL', detail: 'no samples arrived' };
  if (isSaturated(dark, maxCode, limits)) return { id, title, outcome: 'N/A', detail: 'not measurable: the detector is saturated (see headroom)' };
  const uv = (dark.noiseRms / (maxCode + 1)) * d.fullScaleV * 1e6;
  const fraction = dark.noiseRms / maxCode;
  const flickerMv = (dark.flickerPeak / (maxCode + 1)) * d.fullScaleV * 1000;
  const base = `${fmt(dark.noiseRms, 2)} codes rms = ${fmt(uv, 1)} µV (${fmt(fraction * 1e6, 0)} ppm FS) at ${sampleRateHz} S/s, LEDs off` +
    (flickerMv >= 0.01 ? `; ambient flicker ${fmt(flickerMv, 2)} mV peak removed` : '');
  const limitsText = `WARN > ${fmt(limits.noiseWarnFractionFs * 1e6)}, FAIL > ${fmt(limits.noiseFailFractionFs * 1e6)} ppm FS`;
  if (dark.noiseRms === 0 && dark.count > 10) {
    if (synthetic) return { id, title, outcome: 'N/A', detail: `not applicable on this target: its front end is modelled without noise (one constant code, ${fmt(dark.mean)}, with LEDs off)` };
    return { id, title, outcome: 'WARN', detail: `reads one constant code (${fmt(dark.mean)}): a stuck ADC or an open input`, value: 0, unit: 'µV' };
  }
  if (fraction > limits.noiseFailFractionFs) return { id, title, outcome: 'FAIL', detail: `${base}: too noisy (${limitsText})`, value: uv, unit: 'µV' };
  if (fraction > limits.noiseWarnFractionFs) return { id, title, outcome: 'WARN', detail: `${base}: noisy (${limitsText})`, value: uv, unit: 'µV' };
  return { id, title, outcome: 'PASS', detail: base, value: uv, unit: 'µV' };
}

/** The brightest window of the LED ladder on one detector. */
export interface LadderPeak {
  ledId: number;
  currentMa: number;
  max: number;
  clipped: number;
}

export function headroomLine(d: DetectorDesc, dark: WindowStats, peaks: readonly LadderPeak[], limits: SelfTestLimits): SelfTestLine {
  const id = `detector.${d.id}.headroom`;
  const title = `${detName(d)} headroom`;
  const maxCode = maxCodeOf(d);
  if (dark.count === 0) return { id, title, outcome: 'FAIL', detail: 'no samples arrived' };
  if (isSaturated(dark, maxCode, limits)) {
    return { id, title, outcome: 'FAIL', detail: `saturated with every LED off: dark level ${fmt(dark.mean)} of ${maxCode} codes (${pct(dark.atMax / dark.count, 0)} of samples at full scale)`, value: 0, unit: '%' };
  }
  const darkText = `dark level ${pct(dark.mean / maxCode)} FS`;
  const clip = peaks.find((p) => p.clipped > 0);
  if (clip) return { id, title, outcome: 'WARN', detail: `${darkText}; clips at LED ${clip.ledId} ${fmt(clip.currentMa, 1)} mA: use less current or less gain`, value: 0, unit: '%' };
  let top: LadderPeak | undefined;
  for (const p of peaks) if (!top || p.max > top.max) top = p;
  if (!top) return { id, title, outcome: 'PASS', detail: `${darkText}: ${pct(1 - dark.max / maxCode)} headroom with LEDs off`, value: 100 * (1 - dark.max / maxCode), unit: '%' };
  const headroom = 1 - top.max / maxCode;
  const detail = `${darkText}; brightest step ${pct(top.max / maxCode)} FS (LED ${top.ledId} at ${fmt(top.currentMa, 1)} mA): ${pct(headroom)} headroom`;
  if (headroom < limits.headroomWarnFraction) return { id, title, outcome: 'WARN', detail: `${detail}, under ${pct(limits.headroomWarnFraction, 0)}`, value: 100 * headroom, unit: '%' };
  return { id, title, outcome: 'PASS', detail, value: 100 * headroom, unit: '%' };
}

// ------------------------------------------------------------------ LEDs

export interface LedDesc {
  id: number;
  wavelengthNm: number;
}

/** One LED's ladder: currents (first 0) and, per usable detector, the window at each current. */
export interface LedLadder {
  led: LedDesc;
  currentsMa: readonly number[];
  detectors: ReadonlyArray<{ detector: DetectorDesc; windows: readonly WindowStats[] }>;
}

interface LadderVerdict {
  detector: DetectorDesc;
  monotonic: boolean;
  rise: number;
  score: number;
  means: number[];
  steps: number;
}

function judgeLadder(detector: DetectorDesc, windows: readonly WindowStats[], limits: SelfTestLimits): LadderVerdict {
  // only the levels before clipping count (a clipped window cannot rise further)
  let last = windows.length;
  for (let k = 0; k < windows.length; k++) {
    if (windows[k]!.atMax > 0) {
      last = k;
      break;
    }
  }
  const used = windows.slice(0, last);
  const means = used.map((w) => w.mean);
  let monotonic = used.length >= 2;
  for (let k = 1; k < used.length; k++) {
    const a = used[k - 1]!;
    const b = used[k]!;
    const se = Math.hypot(a.meanStdError, b.meanStdError) || 1e-9;
    if (!(b.mean - a.mean > limits.ledStepSigmas * se)) monotonic = false;
  }
  const first = used[0];
  const lastW = used[used.length - 1];
  const rise = first && lastW ? lastW.mean - first.mean : 0;
  const score = first && lastW ? rise / (Math.hypot(first.meanStdError, lastW.meanStdError) || 1e-9) : Number.NEGATIVE_INFINITY;
  return { detector, monotonic, rise, score: Number.isFinite(score) ? score : Number.NEGATIVE_INFINITY, means, steps: used.length };
}

export function ledLine(ladder: LedLadder, limits: SelfTestLimits): SelfTestLine {
  const { led } = ladder;
  const id = `led.${led.id}`;
  const title = `LED ${led.id} (${led.wavelengthNm} nm) responds`;
  if (ladder.detectors.length === 0) return { id, title, outcome: 'N/A', detail: 'no usable detector (every detector is saturated or silent)' };
  const verdicts = ladder.detectors.map((d) => judgeLadder(d.detector, d.windows, limits));
  verdicts.sort((a, b) => Number(b.monotonic) - Number(a.monotonic) || b.rise / maxCodeOf(b.detector) - a.rise / maxCodeOf(a.detector));
  const best = verdicts[0]!;
  const maxCode = maxCodeOf(best.detector);
  const currents = ladder.currentsMa.slice(0, best.steps).map((c) => fmt(c, 1)).join('/');
  const ladderText = `${best.means.map((m) => fmt(m)).join(' → ')} codes at ${currents} mA on ${detName(best.detector)}`;
  const value = (100 * best.rise) / maxCode;
  if (best.monotonic && best.rise >= limits.ledMinRiseFractionFs * maxCode) {
    return { id, title, outcome: 'PASS', detail: `rises monotonically: ${ladderText}`, value, unit: '%FS' };
  }
  if (best.monotonic) {
    return { id, title, outcome: 'WARN', detail: `weak response (${pct(best.rise / maxCode, 3)} FS, PASS needs ${pct(limits.ledMinRiseFractionFs, 2)}): ${ladderText}; is the fiber on the reference target?`, value, unit: '%FS' };
  }
  return {
    id, title, outcome: 'FAIL',
    detail: `no monotonic rise on any detector (best ${ladderText}, ${signed(best.rise, 1)} codes): dead LED or driver, broken fiber path, or no fluorescent target`,
    value, unit: '%FS',
  };
}

// ------------------------------------------------------------ sample rate

export function sampleRateLine(fit: RateFit | null, nominalHz: number, limits: SelfTestLimits): SelfTestLine {
  const id = 'sample_rate';
  const title = 'sample-rate accuracy against the host clock';
  if (!fit || !(fit.spanS > 0)) return { id, title, outcome: 'N/A', detail: 'too few heartbeat replies while running to fit a rate' };
  const ratio = fit.ticksPerSecond / nominalHz;
  if (!(Math.abs(ratio - 1) <= limits.rateImplausibleFraction)) {
    return {
      id, title, outcome: 'N/A',
      detail: `measured ${fmt(ratio, 3)}× the nominal ${nominalHz} S/s: implausible for a crystal error, so not judged. This check needs a real-time device ` +
        '(a simulator at speed≠1 is not); on hardware this means a wrong clock configuration',
      value: fit.ticksPerSecond, unit: 'S/s',
    };
  }
  const ppm = (ratio - 1) * 1e6;
  const sigmaPpm = (fit.ticksPerSecondSigma / nominalHz) * 1e6;
  const detail = `${signed(ppm)} ppm${Number.isFinite(sigmaPpm) ? ` ± ${fmt(sigmaPpm)}` : ''} (${fmt(fit.ticksPerSecond, 3)} vs ${nominalHz} S/s nominal; ` +
    `${fit.points} heartbeat replies over ${fmt(fit.spanS, 1)} s of host monotonic clock); PASS ≤ ${limits.ratePassPpm}, FAIL > ${limits.rateFailPpm} ppm (± 2σ)`;
  // judged with the measurement's own uncertainty: FAIL only when clearly beyond, PASS only when clearly within
  const sigma = Number.isFinite(sigmaPpm) ? sigmaPpm : 0;
  const low = Math.abs(ppm) - 2 * sigma;
  if (low > limits.rateFailPpm) return { id, title, outcome: 'FAIL', detail, value: ppm, unit: 'ppm' };
  if (low <= limits.ratePassPpm && sigma <= limits.ratePassPpm) return { id, title, outcome: 'PASS', detail, value: ppm, unit: 'ppm' };
  const hint = sigma > limits.ratePassPpm / 2 ? ': too uncertain to pass, measure longer (--rate-seconds)' : '';
  return { id, title, outcome: 'WARN', detail: `${detail}${hint}`, value: ppm, unit: 'ppm' };
}

// ----------------------------------------------------------------- frames

export interface FrameCounts {
  /** Frames the host decoded (replies, blocks, events, status, logs). */
  received: number;
  hostRejected: { crc: number; oversize: number; cobs: number; decode: number };
  /** Frames the device rejected (its last Status), or undefined when none arrived. */
  deviceRejected: number | undefined;
  timeouts: number;
}

export function frameLine(c: FrameCounts, limits: SelfTestLimits): SelfTestLine {
  const id = 'frames';
  const title = 'frame error rate';
  const h = c.hostRejected;
  const host = h.crc + h.oversize + h.cobs + h.decode;
  const device = c.deviceRejected ?? 0;
  const rate = (host + device) / Math.max(1, c.received + host);
  const detail = `host rejected ${host} of ${c.received + host} frames (crc ${h.crc}, cobs ${h.cobs}, oversize ${h.oversize}, decode ${h.decode}); ` +
    `device rejected ${c.deviceRejected ?? 'n/a'}; ${c.timeouts} command timeouts`;
  if (host + device === 0 && c.timeouts === 0) return { id, title, outcome: 'PASS', detail, value: 0, unit: 'per frame' };
  const outcome: Outcome = rate > limits.frameErrorFailRate ? 'FAIL' : 'WARN';
  return { id, title, outcome, detail: `${detail}: rate ${rate.toExponential(1)} (FAIL > ${limits.frameErrorFailRate.toExponential(0)})`, value: rate, unit: 'per frame' };
}

// ------------------------------------------------------------- loopback

export interface LoopbackInput {
  output: { id: number; label: string } | undefined;
  inputs: ReadonlyArray<{ id: number; label: string; rises: readonly number[] }>;
  /** Sample indices where the sync output rose during the observation. */
  expectedRises: readonly number[];
  /** The input the builder says is wired (FAIL when the pulses do not arrive), or undefined to look on every input. */
  requiredLine: number | undefined;
}

export function loopbackLine(l: LoopbackInput, limits: SelfTestLimits): SelfTestLine {
  const id = 'digital_loopback';
  const title = 'digital I/O loopback (sync out → input)';
  if (!l.output) return { id, title, outcome: 'N/A', detail: 'the board has no sync output' };
  if (l.inputs.length === 0) return { id, title, outcome: 'N/A', detail: 'the board has no digital input' };
  const n = l.expectedRises.length;
  if (n === 0) return { id, title, outcome: 'N/A', detail: 'the run was too short for a sync pulse' };
  const scored = l.inputs.map((input) => {
    const seen = new Set(input.rises);
    let hit = 0;
    for (const e of l.expectedRises) if (seen.has(e) || seen.has(e + 1) || seen.has(e - 1)) hit++;
    return { input, hit };
  });
  const out = `${l.output.label || `line ${l.output.id}`}`;
  if (l.requiredLine !== undefined) {
    const s = scored.find((x) => x.input.id === l.requiredLine);
    if (!s) return { id, title, outcome: 'FAIL', detail: `line ${l.requiredLine} is not a digital input of this board` };
    const name = s.input.label || `line ${s.input.id}`;
    if (s.hit >= limits.loopbackMinFraction * n) return { id, title, outcome: 'PASS', detail: `${out} → ${name}: ${s.hit} of ${n} sync pulses arrived on time`, value: s.hit / n, unit: 'fraction' };
    return { id, title, outcome: 'FAIL', detail: `${out} → ${name}: ${s.hit} of ${n} sync pulses arrived: check the wire and the input`, value: s.hit / n, unit: 'fraction' };
  }
  scored.sort((a, b) => b.hit - a.hit);
  const best = scored[0]!;
  if (best.hit >= limits.loopbackMinFraction * n) {
    return { id, title, outcome: 'PASS', detail: `${out} → ${best.input.label || `line ${best.input.id}`}: ${best.hit} of ${n} sync pulses arrived on time`, value: best.hit / n, unit: 'fraction' };
  }
  return { id, title, outcome: 'N/A', detail: `no input follows ${out} (not wired; wire it to an input and pass --loopback LINE to require it)` };
}

// ------------------------------------------------------------- watchdog

export interface WatchdogResult {
  timeoutMs: number;
  /** Host ms from stopping heartbeats until the device reported every LED dark, or undefined if it never did. */
  darkAfterMs: number | undefined;
  waitedMs: number;
  darkFromSample: number | undefined;
  /** Detector check, when the analog path is usable: mean lit, after the trip, and with LEDs off. */
  level?: { detector: DetectorDesc; litMean: number; afterMean: number; darkMean: number } | undefined;
  /** Heartbeat timeouts the device reported before the test (heartbeats were being sent). */
  spuriousTrips: number;
}

export function watchdogLine(w: WatchdogResult, limits: SelfTestLimits): SelfTestLine {
  const id = 'watchdog';
  const title = 'watchdog darkens LEDs when heartbeats stop';
  if (w.darkAfterMs === undefined) {
    return { id, title, outcome: 'FAIL', detail: `LEDs still driven ${fmt(w.waitedMs)} ms after heartbeats stopped (timeout ${w.timeoutMs} ms)` };
  }
  const base = `every LED dark ${fmt(w.darkAfterMs)} ms after heartbeats stopped (timeout ${w.timeoutMs} ms)${w.darkFromSample !== undefined ? `, from sample ${w.darkFromSample}` : ''}`;
  if (w.level) {
    const { litMean, afterMean, darkMean, detector } = w.level;
    if (afterMean - darkMean > 0.5 * (litMean - darkMean)) {
      return { id, title, outcome: 'FAIL', detail: `${base}, but ${detName(detector)} still reads ${fmt(afterMean)} codes (lit ${fmt(litMean)}, dark ${fmt(darkMean)}): the LED is still on`, value: w.darkAfterMs, unit: 'ms' };
    }
  }
  const levelText = w.level ? `; ${detName(w.level.detector)} back to ${fmt(w.level.afterMean)} codes (lit ${fmt(w.level.litMean)}, dark ${fmt(w.level.darkMean)})` : '';
  if (w.spuriousTrips > 0) return { id, title, outcome: 'WARN', detail: `${base}${levelText}; but it also tripped ${w.spuriousTrips}× while heartbeats were sent`, value: w.darkAfterMs, unit: 'ms' };
  if (w.darkAfterMs > w.timeoutMs * limits.watchdogLateFactor + 250) return { id, title, outcome: 'WARN', detail: `${base}${levelText}: late`, value: w.darkAfterMs, unit: 'ms' };
  return { id, title, outcome: 'PASS', detail: `${base}${levelText}`, value: w.darkAfterMs, unit: 'ms' };
}

/** A line for a check that could not run. */
export function notRunLine(id: string, title: string, outcome: Outcome, detail: string): SelfTestLine {
  return { id, title, outcome, detail };
}
