// Acquisition config files (JSON): what a scientist writes, validated with
// zod so every error names the field, then turned into the wire's
// AcquisitionConfig.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type AcquisitionConfigInit, FiberrigError, ModulationMode } from '../../protocol/index.ts';

const led = z.object({
  channel: z.number().int().min(0),
  currentMa: z.number().positive().optional(),
  powerUw: z.number().positive().optional(),
  carrierHz: z.number().positive().optional(),
}).strict().refine((l) => (l.currentMa === undefined) !== (l.powerUw === undefined), { message: 'give exactly one of currentMa or powerUw' });

export const acquisitionConfigSchema = z.object({
  mode: z.enum(['continuous', 'time-division', 'lock-in']),
  sampleRateHz: z.number().int().positive(),
  detectors: z.array(z.number().int().min(0)).min(1),
  leds: z.array(led),
  oversampling: z.number().int().min(1).default(1),
  blockSamples: z.number().int().positive().default(250),
  timeDivision: z.object({
    slotSamples: z.number().int().positive(),
    onSamples: z.number().int().positive(),
    settleSamples: z.number().int().min(0),
    windowSamples: z.number().int().positive(),
    darkSlot: z.boolean().default(true),
  }).strict().optional(),
  aux: z.object({ inputs: z.array(z.number().int().min(0)).min(1), rateHz: z.number().int().positive() }).strict().optional(),
  digitalInputs: z.array(z.number().int().min(0)).default([]),
  syncOut: z.object({ line: z.number().int().min(0), periodSamples: z.number().int().positive(), pulseSamples: z.number().int().positive() }).strict().optional(),
  heartbeatTimeoutMs: z.number().int().positive().default(2000),
  statusIntervalMs: z.number().int().positive().default(500),
  /** Host-side processing. */
  outputRateHz: z.number().positive().default(100),
  lowpassHz: z.number().positive().optional(),
  auxOutputRateHz: z.number().positive().optional(),
}).strict().superRefine((c, ctx) => {
  if (c.mode === 'time-division' && !c.timeDivision) ctx.addIssue({ code: 'custom', path: ['timeDivision'], message: 'required when mode is time-division' });
  if (c.mode === 'lock-in') {
    c.leds.forEach((l, i) => {
      if (l.carrierHz === undefined) ctx.addIssue({ code: 'custom', path: ['leds', i, 'carrierHz'], message: 'required when mode is lock-in' });
    });
  }
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
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new ConfigError(`${origin} is invalid:\n  ${lines.join('\n  ')}`, 'fix the fields named above (see README, "Acquisition config")');
  }
  return result.data;
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
    ...(c.aux ? { aux: { inputIds: c.aux.inputs, rateHz: c.aux.rateHz } } : {}),
    digitalInputIds: c.digitalInputs,
    ...(c.syncOut ? { syncOut: { enabled: true, ...c.syncOut } } : {}),
    blockSamples: c.blockSamples,
    heartbeatTimeoutMs: c.heartbeatTimeoutMs,
    statusIntervalMs: c.statusIntervalMs,
  };
}

/**
 * The default: three wavelengths (405 isosbestic, 470 green, 560 red) by lock-in on two detectors, EEG/EMG at 1 kS/s.
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
  blockSamples: 250,
  aux: { inputs: [0, 1], rateHz: 1000 },
  digitalInputs: [0],
  outputRateHz: 100,
});
