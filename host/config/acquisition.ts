// Acquisition config files (JSON): what a scientist writes, validated with
// zod so every error names the field, then turned into the wire's
// AcquisitionConfig.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type AcquisitionConfigInit, FiberrigError, ModulationMode } from '../../protocol/index.ts';
import { CONFIG_RANGES, type Range, type RangeIssue, UINT32_MAX, wireRangeIssues } from './wire-ranges.ts';

const R = CONFIG_RANGES;
/** An issue message quoting what the file said, e.g. "4294977296 must be a whole number in 1..10000000 Hz". */
const said = (rule: string) => (issue: { input?: unknown }): string =>
  (issue.input === undefined ? `missing: ${rule}` : `${typeof issue.input === 'number' ? String(issue.input) : JSON.stringify(issue.input)} ${rule}`);
/** A whole number within `r` (which is inside the wire's uint32); the message says the range. */
const int = (r: Range, unit = ''): z.ZodNumber => {
  const error = said(`must be a whole number in ${r.min}..${r.max}${unit ? ` ${unit}` : ''}`);
  return z.number({ error }).int({ error }).min(r.min, { error }).max(r.max, { error });
};
/** A finite number above 0 and at most `max`. */
const positive = (max: number, unit: string): z.ZodNumber => {
  const error = said(`must be a finite number above 0 and at most ${max} ${unit}`);
  return z.number({ error }).positive({ error }).max(max, { error });
};
const id = int(R.id);
const hz = positive(R.sampleRateHz.max, 'Hz');
const samples = (min: number): z.ZodNumber => int({ min, max: R.sampleRateHz.max }, 'samples');

const led = z.object({
  channel: id,
  currentMa: positive(R.currentMa.max, 'mA').optional(),
  powerUw: positive(R.powerUw.max, 'µW').optional(),
  carrierHz: hz.optional(),
}).strict().refine((l) => (l.currentMa === undefined) !== (l.powerUw === undefined), { message: 'give exactly one of currentMa or powerUw' });

export const acquisitionConfigSchema = z.object({
  mode: z.enum(['continuous', 'time-division', 'lock-in']),
  sampleRateHz: int(R.sampleRateHz, 'Hz'),
  detectors: z.array(id).min(1),
  leds: z.array(led),
  oversampling: int(R.oversampling).default(1),
  blockSamples: int(R.blockSamples, 'samples').default(250),
  timeDivision: z.object({
    slotSamples: samples(1),
    onSamples: samples(1),
    settleSamples: samples(0),
    windowSamples: samples(1),
    darkSlot: z.boolean().default(true),
  }).strict().optional(),
  // blockSamples: aux samples per aux block (protocol 1.2); absent = the detectors' blockSamples, as before
  aux: z.object({ inputs: z.array(id).min(1), rateHz: int(R.sampleRateHz, 'Hz'), blockSamples: int(R.blockSamples, 'samples').optional() }).strict().optional(),
  digitalInputs: z.array(id).default([]),
  // a sync period has no physical bound short of the wire's uint32 (days of samples)
  syncOut: z.object({ line: id, periodSamples: int({ min: 2, max: UINT32_MAX }, 'samples'), pulseSamples: int({ min: 1, max: UINT32_MAX }, 'samples') }).strict().optional(),
  heartbeatTimeoutMs: int(R.heartbeatTimeoutMs, 'ms').default(2000),
  statusIntervalMs: int(R.statusIntervalMs, 'ms').default(500),
  /** Host-side processing. */
  outputRateHz: hz.default(100),
  lowpassHz: hz.optional(),
  auxOutputRateHz: hz.optional(),
}).strict().superRefine((c, ctx) => {
  if (c.mode === 'time-division' && !c.timeDivision) ctx.addIssue({ code: 'custom', path: ['timeDivision'], message: 'required when mode is time-division' });
  if (c.mode === 'lock-in') {
    c.leds.forEach((l, i) => {
      if (l.carrierHz === undefined) ctx.addIssue({ code: 'custom', path: ['leds', i, 'carrierHz'], message: 'required when mode is lock-in' });
    });
  }
  // host-side rates: an output faster than its input, or a low-pass above Nyquist, means nothing
  const above = (path: PropertyKey[], v: number | undefined, max: number, what: string): void => {
    if (v !== undefined && v > max) ctx.addIssue({ code: 'custom', path, message: `${v} Hz is above ${what} (${max} Hz)` });
  };
  above(['outputRateHz'], c.outputRateHz, c.sampleRateHz, 'sampleRateHz');
  above(['lowpassHz'], c.lowpassHz, c.sampleRateHz / 2, 'half of sampleRateHz');
  above(['auxOutputRateHz'], c.auxOutputRateHz, c.aux?.rateHz ?? c.sampleRateHz, c.aux ? 'aux.rateHz' : 'sampleRateHz');
});

export type AcquisitionFile = z.infer<typeof acquisitionConfigSchema>;

export class ConfigError extends FiberrigError {
  constructor(message: string, hint: string) {
    super('E_CONFIG', message, hint);
    this.name = 'ConfigError';
  }
}

const MODES = {
  continuous: ModulationMode.MODULATION_MODE_CONTINUOUS,
  'time-division': ModulationMode.MODULATION_MODE_TIME_DIVISION,
  'lock-in': ModulationMode.MODULATION_MODE_LOCK_IN,
} as const;

/** Validates an already-parsed config object; errors name every offending field. */
export function parseAcquisitionConfig(value: unknown, origin = 'config'): AcquisitionFile {
  const result = acquisitionConfigSchema.safeParse(value);
  const issues: RangeIssue[] = result.success
    // what only the whole config can say (counts against the rate, pulse against period), in the file's names
    ? wireRangeIssues(toWireConfig(result.data)).map((i) => ({ ...i, field: fileFieldOf(i.field) }))
    : result.error.issues.map((i) => ({ field: formatPath(i.path), message: i.message }));
  if (issues.length > 0) {
    const seen = new Set<string>();
    const lines = issues.filter((i) => !seen.has(i.field) && seen.add(i.field)).map((i) => `${i.field}: ${i.message}`);
    throw new ConfigError(`${origin} is invalid:\n  ${lines.join('\n  ')}`, 'fix the fields named above (see README, "Acquisition config"); nothing was sent to a device');
  }
  return result.data as AcquisitionFile;
}

/** "leds[1].channel" for the path ['leds', 1, 'channel']. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

/** The config file's name of a wire field ("detectorIds[0]" -> "detectors[0]"). */
function fileFieldOf(wireField: string): string {
  return wireField.replace(/^detectorIds/, 'detectors').replace(/^aux\.inputIds/, 'aux.inputs').replace(/^digitalInputIds/, 'digitalInputs');
}

export async function loadAcquisitionConfig(path: string): Promise<AcquisitionFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read ${path}: ${(cause as Error).message}`, 'check the --config path');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${path} is not valid JSON: ${(cause as Error).message}`, 'fix the JSON syntax');
  }
  return parseAcquisitionConfig(json, path);
}

export function toWireConfig(c: AcquisitionFile): AcquisitionConfigInit {
  return {
    mode: MODES[c.mode],
    sampleRateHz: c.sampleRateHz,
    leds: c.leds.map((l) => ({
      channel: l.channel,
      ...(l.currentMa !== undefined ? { currentMa: l.currentMa } : {}),
      ...(l.powerUw !== undefined ? { powerUw: l.powerUw } : {}),
      ...(l.carrierHz !== undefined ? { carrierHz: l.carrierHz } : {}),
    })),
    detectorIds: c.detectors,
    oversampling: c.oversampling,
    ...(c.timeDivision ? { timeDivision: { ...c.timeDivision } } : {}),
    ...(c.aux ? { aux: { inputIds: c.aux.inputs, rateHz: c.aux.rateHz, ...(c.aux.blockSamples !== undefined ? { blockSamples: c.aux.blockSamples } : {}) } } : {}),
    digitalInputIds: c.digitalInputs,
    ...(c.syncOut ? { syncOut: { enabled: true, ...c.syncOut } } : {}),
    blockSamples: c.blockSamples,
    heartbeatTimeoutMs: c.heartbeatTimeoutMs,
    statusIntervalMs: c.statusIntervalMs,
  };
}

/**
 * The default: three wavelengths (405 isosbestic, 470 green, 560 red) by lock-in on two detectors, EEG/EMG at 1 kS/s.
 * Blocks: 1000 detector samples (0.1 s, 4000 sample bytes: framing is then about 1 % of a block) and 250 aux samples
 * (EEG/EMG in 0.25 s steps, as with the 250-sample blocks before protocol 1.2): all traffic about 1.6 % overhead,
 * against 3.6 % with 250-sample blocks (`npm run bench -- wire`, wire.overhead.all_realtime).
 * Carriers 648/1150/1749 Hz: >= 40 Hz apart, clear of each other's harmonics and intermodulation products, and
 * >= 48 Hz from every harmonic of 100/120 Hz lamp flicker (the device's carrier rules are in firmware-sim/device/validate.ts).
 */
export const DEFAULT_LOCKIN_CONFIG: AcquisitionFile = parseAcquisitionConfig({
  mode: 'lock-in',
  sampleRateHz: 10000,
  detectors: [0, 1],
  leds: [
    { channel: 0, currentMa: 20, carrierHz: 648 },
    { channel: 1, currentMa: 20, carrierHz: 1150 },
    { channel: 2, currentMa: 20, carrierHz: 1749 },
  ],
  blockSamples: 1000,
  aux: { inputs: [0, 1], rateHz: 1000, blockSamples: 250 },
  digitalInputs: [0],
  outputRateHz: 100,
});
