// The scenario file format (`sim://file?path=F.json`, `fiberrig sim --scenario F.json`): one JSON
// document declares a simulated experiment — the model (a sleeping mouse or known signals), the
// sleep model's knobs, optics and fluorophore spectra, aux content, digital lines, a timeline of
// events (sensor steps and ramps, drug onset, motion, blood-volume changes, TTL pulses) and, for the
// device, a board and a fault timeline. The zod schema is the single definition: the validator,
// the TypeScript types and the JSON Schema for editors (scenario.schema.json, `npm run gen`) all
// come from it. The built-in scenarios are documents of this format (builtins.ts).
import { z } from 'zod';

export const SCENARIO_FORMAT = 'fiberrig-scenario';
export const SCENARIO_FORMAT_VERSION = 1;

// zod's numbers are finite (no NaN, no Infinity)
const num = z.number();
const nonNeg = z.number().min(0);
const pos = z.number().positive();
const frac01 = z.number().min(0).max(1);
const timeS = z.number().min(0).max(1e7);
/** [lo, hi] with lo <= hi. */
const range = (inner: z.ZodType<number>) =>
  z.tuple([inner, inner]).refine(([lo, hi]) => lo <= hi, { message: 'must be [low, high] with low <= high' });
const lineIndex = z.number().int().min(0).max(255);

const stateLevels = z.object({
  ne: num, gate: frac01, bloodVolume: num, csf: num, wake: frac01,
  deltaUv: nonNeg, thetaUv: nonNeg, sigmaUv: nonNeg, betaUv: nonNeg, emgUv: nonNeg,
}).strict();
const perState = <T extends z.ZodType>(t: T) => z.object({ wake: t, nrem: t, rem: t }).strict();

/** The sleep model's knobs (physiology.ts); every field optional, defaults from DEFAULT_SLEEP_PARAMS. */
export const sleepParamsSchema = z.object({
  neFrequencyHz: z.number().min(0.001).max(1),
  nePeriodJitter: z.number().min(0).max(1),
  nePeakToPeak: nonNeg,
  neAmplitudeScale: nonNeg,
  neCycleAmplitudeJitter: frac01,
  neIrregularity: nonNeg,
  wakeNeActivity: nonNeg,
  maProbabilityPerPeak: frac01,
  maDurationS: range(z.number().positive().max(15)),
  maLeadS: range(nonNeg),
  maNeBoost: nonNeg,
  maBoostSigmaS: pos,
  bvGain: num,
  bvLagS: nonNeg,
  csfGain: num,
  csfLagS: nonNeg,
  levels: perState(stateLevels.partial()).partial(),
  tauS: stateLevels.extend({}).partial().refine((t) => Object.values(t).every((v) => v === undefined || v > 0), { message: 'time constants must be > 0' }),
  hypnogram: z.object({
    initialWakeS: range(nonNeg),
    nremMedianS: pos,
    nremSigma: nonNeg,
    nremS: range(pos),
    remS: range(pos),
    remProbability: frac01,
    remMinNremS: nonNeg,
    wakeMedianS: pos,
    wakeSigma: nonNeg,
    wakeS: range(pos),
    postRemWakeS: range(pos),
  }).strict().partial(),
  ma: z.object({ deltaScale: nonNeg, sigmaScale: nonNeg, betaScale: nonNeg, emgScale: nonNeg, edgeS: pos }).strict().partial(),
  spindles: z.object({ ratePerS: nonNeg, frequencyHz: range(pos), durationS: range(pos), amplitudeUv: range(nonNeg) }).strict().partial(),
  motion: z.object({
    ratePerS: perState(nonNeg).partial(),
    depthWake: range(frac01),
    depthSleep: range(frac01),
    durationS: range(pos),
    emgBoost: nonNeg,
  }).strict().partial(),
}).strict().partial();

export const FLUOROPHORE_IDS = ['grabNe', 'redDye', 'tissueAf', 'fiberAf'] as const;
const fluorophoreId = z.enum(FLUOROPHORE_IDS);
const perFluorophore = <T extends z.ZodType>(t: T) =>
  z.object({ grabNe: t, redDye: t, tissueAf: t, fiberAf: t }).strict();

/** A fluorophore's spectra and bleaching (optics.ts FluorophoreSpec); omitted fields keep the default. */
const fluorophoreSchema = z.object({
  label: z.string().min(1),
  excitation: z.array(z.object({ peakNm: pos, sigmaNm: pos, weight: nonNeg }).strict()).min(1),
  response: z.object({ fromNm: pos, fromR: num, toNm: pos, toR: num }).strict().refine((r) => r.fromNm < r.toNm, { message: 'fromNm must be < toNm' }),
  emissionNm: pos,
  tissue: z.boolean(),
  bleach: z.object({ fastFraction: frac01, fastTauS: pos, slowFraction: frac01, slowTauS: pos }).strict(),
}).strict().partial();

const opticsSchema = z.object({
  ledModel: z.enum(['unit', 'linear']),
  bleaching: z.boolean(),
  motion: z.boolean(),
  haemodynamics: z.boolean(),
  temperatureDrift: z.boolean(),
  /** Collected µW per µW of excitation at peak efficiency. */
  brightness: perFluorophore(nonNeg),
  ambientScale: nonNeg,
  noiseScale: nonNeg,
  gridS: z.number().positive().max(0.1),
}).strict();

/** A known underlying signal (model "signals"): a repeating staircase plus sines with zero phase at t = 0. */
const signalSchema = z.object({
  steps: z.object({ stepS: pos, levels: z.array(num).min(1) }).strict().optional(),
  sines: z.array(z.object({ hz: pos, amplitude: num }).strict()).default([]),
}).strict();

const auxSchema = z.discriminatedUnion('content', [
  z.object({ content: z.literal('eeg') }).strict(),
  z.object({ content: z.literal('tones'), tones: z.array(z.object({ hz: pos, amplitudeUv: nonNeg }).strict()).min(1) }).strict(),
  z.object({ content: z.literal('none') }).strict(),
]);

const digitalLineSchema = z.discriminatedUnion('kind', [
  /** Periodic pulses: rising at firstS + k periodS, widthS high. */
  z.object({ kind: z.literal('pulses'), line: lineIndex, firstS: timeS, periodS: pos, widthS: pos }).strict()
    .refine((p) => p.widthS < p.periodS, { message: 'widthS must be shorter than periodS', path: ['widthS'] }),
  /** A pulse at every sleep-state transition (micro-arousals included); model "sleep" only. */
  z.object({ kind: z.literal('stateMarkers'), line: lineIndex, widthS: pos }).strict(),
]);

/** Timeline events, at world time atS (s). */
export const timelineEventSchema = z.discriminatedUnion('kind', [
  /** The fluorophore's signal steps to `level` (added to the model's own signal) from atS on. */
  z.object({ kind: z.literal('step'), atS: timeS, fluorophore: fluorophoreId, level: num }).strict(),
  /** The added level ramps linearly from its value at atS to `to` over durationS. */
  z.object({ kind: z.literal('ramp'), atS: timeS, durationS: pos, fluorophore: fluorophoreId, to: num }).strict(),
  /** A drug: the NE oscillation amplitude moves from its value to `neAmplitudeScale` × nominal, first order with washInS (0: at once). */
  z.object({ kind: z.literal('drug'), atS: timeS, name: z.string().min(1).default('drug'), neAmplitudeScale: nonNeg, washInS: nonNeg.default(0) }).strict(),
  /** A motion artefact: collected tissue light dips by `depth` (fraction) at the middle, sin² over durationS. */
  z.object({ kind: z.literal('motion'), atS: timeS, durationS: pos, depth: z.number().min(0).max(0.95) }).strict(),
  /** Blood volume changes by `change` (fraction), raised cosine up over riseS, held, back down over riseS. */
  z.object({ kind: z.literal('bloodVolume'), atS: timeS, durationS: pos, riseS: nonNeg.default(5), change: z.number().min(-0.5).max(0.5) }).strict(),
  /** A TTL pulse on a digital input line. */
  z.object({ kind: z.literal('ttl'), atS: timeS, line: lineIndex, widthS: pos }).strict(),
  /**
   * A micro-arousal (model "sleep"): awake from atS for durationS (< 15 s), EEG/EMG as the model's
   * own micro-arousals, and an NE peak nePeakAfterS after onset (blood volume follows it).
   */
  z.object({ kind: z.literal('microArousal'), atS: timeS, durationS: z.number().positive().max(15), nePeakAfterS: nonNeg.default(3) }).strict(),
]);

/** The device part: a board (overrides of the default board definition) and a fault timeline. */
const deviceSchema = z.object({
  /** Fields of the board definition to change (firmware-sim/device/board.ts BoardDefinition), e.g. { "name": "..." }. */
  board: z.record(z.string(), z.unknown()).optional(),
  /** Link and device faults in the sim:// `faults=` syntax, one per entry, e.g. "disconnect@600:for=5". */
  faults: z.array(z.string().min(1)).default([]),
  /** Front-end hardware faults in the sim:// `hw=` syntax, e.g. "dead_led:1". */
  hardwareFaults: z.array(z.string().min(1)).default([]),
}).strict();

export const scenarioSpecSchema = z.object({
  $schema: z.string().optional(),
  format: z.literal(SCENARIO_FORMAT),
  version: z.literal(SCENARIO_FORMAT_VERSION),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: 'letters, digits, ".", "_" and "-", starting with a letter or digit' }),
  description: z.string().default(''),
  /** "sleep": the sleeping-mouse model (NE = GRAB-NE, blood volume = red dye); "signals": the `signals` given, no animal. */
  model: z.enum(['sleep', 'signals']),
  sleep: sleepParamsSchema.optional(),
  signals: perFluorophore(signalSchema).partial().optional(),
  optics: opticsSchema,
  fluorophores: perFluorophore(fluorophoreSchema).partial().optional(),
  aux: auxSchema,
  digital: z.array(digitalLineSchema).default([]),
  timeline: z.array(timelineEventSchema).default([]),
  device: deviceSchema.optional(),
}).strict().superRefine((s, ctx) => {
  if (s.model === 'signals' && s.sleep !== undefined) ctx.addIssue({ code: 'custom', path: ['sleep'], message: 'only for model "sleep"' });
  if (s.model === 'sleep' && s.signals !== undefined) ctx.addIssue({ code: 'custom', path: ['signals'], message: 'only for model "signals" (in "sleep" the signals are NE and blood volume; use timeline steps)' });
  s.digital.forEach((d, i) => {
    if (d.kind === 'stateMarkers' && s.model !== 'sleep') ctx.addIssue({ code: 'custom', path: ['digital', i, 'kind'], message: 'stateMarkers needs model "sleep"' });
  });
  const lines = s.digital.map((d) => d.line);
  lines.forEach((l, i) => {
    if (lines.indexOf(l) !== i) ctx.addIssue({ code: 'custom', path: ['digital', i, 'line'], message: `line ${l} is defined twice` });
  });
  s.timeline.forEach((e, i) => {
    if (e.kind === 'drug' && s.model !== 'sleep') ctx.addIssue({ code: 'custom', path: ['timeline', i, 'kind'], message: 'a drug scales the NE oscillation: needs model "sleep"' });
    if (e.kind === 'microArousal' && s.model !== 'sleep') ctx.addIssue({ code: 'custom', path: ['timeline', i, 'kind'], message: 'a micro-arousal wakes the animal: needs model "sleep"' });
  });
});

/** A validated scenario document (defaults filled in). */
export type ScenarioSpec = z.infer<typeof scenarioSpecSchema>;
/** A scenario document as written (defaults may be omitted). */
export type ScenarioSpecInput = z.input<typeof scenarioSpecSchema>;
export type TimelineEvent = z.infer<typeof timelineEventSchema>;
export type TimelineEventInput = z.input<typeof timelineEventSchema>;
export type SignalSpec = z.infer<typeof signalSchema>;
export type SleepParamsOverride = z.infer<typeof sleepParamsSchema>;
export type FluorophoreOverride = z.infer<typeof fluorophoreSchema>;
export type DigitalLineSpec = ScenarioSpec['digital'][number];
