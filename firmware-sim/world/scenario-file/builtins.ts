// The built-in scenarios as scenario documents: what `sim://sleep` (and zolpidem, steps, dark) run
// is exactly what a file with this content runs. `fiberrig sim --print-scenario NAME` writes one
// out as a starting point for your own.
import { SCENARIO_FORMAT, SCENARIO_FORMAT_VERSION, type ScenarioSpecInput } from './spec.ts';

/** Sync pulses of the sleep scenarios on digital line 0: every 60 s (first at t = 60 s), 100 ms. */
export const SLEEP_SYNC_PERIOD_S = 60;
export const SLEEP_SYNC_WIDTH_S = 0.1;
/** Experimenter markers on line 1 at every state transition (micro-arousals included), 50 ms. */
export const SLEEP_MARKER_WIDTH_S = 0.05;
/** Zolpidem: NE oscillation amplitude about -50 % (Hauglund et al. 2025). */
export const ZOLPIDEM_NE_AMPLITUDE_SCALE = 0.5;

const HEAD = { $schema: './scenario.schema.json', format: SCENARIO_FORMAT, version: SCENARIO_FORMAT_VERSION } as const;

const SLEEP_OPTICS: ScenarioSpecInput['optics'] = {
  ledModel: 'unit', bleaching: true, motion: true, haemodynamics: true, temperatureDrift: true,
  brightness: { grabNe: 3e-3, redDye: 2e-3, tissueAf: 6e-4, fiberAf: 3e-4 },
  ambientScale: 1, noiseScale: 1, gridS: 0.02,
};

const SLEEP_DIGITAL: ScenarioSpecInput['digital'] = [
  { kind: 'pulses', line: 0, firstS: SLEEP_SYNC_PERIOD_S, periodS: SLEEP_SYNC_PERIOD_S, widthS: SLEEP_SYNC_WIDTH_S },
  { kind: 'stateMarkers', line: 1, widthS: SLEEP_MARKER_WIDTH_S },
];

/**
 * `steps` signals: grabNe a staircase [0, 0.10, 0.20, 0.10] of 10 s steps + 0.05 sin(2π 0.02 t) +
 * 0.02 sin(2π 1 t); redDye a 0 / 0.08 square of 15 s steps + 0.03 sin(2π 0.1 t). Over any window
 * that is a multiple of 200 s the staircase and the 0.02 Hz sine are orthogonal; GRAB-NE's response
 * at 405 nm is 0 (isosbestic), so the 405 nm channel carries none of it.
 */
export const STEPS_SIGNALS = {
  grabNe: { steps: { stepS: 10, levels: [0, 0.1, 0.2, 0.1] }, sines: [{ hz: 0.02, amplitude: 0.05 }, { hz: 1, amplitude: 0.02 }] },
  redDye: { steps: { stepS: 15, levels: [0, 0.08] }, sines: [{ hz: 0.1, amplitude: 0.03 }] },
};
/** Every aux input of `steps` carries 100 µV at 2 Hz + 40 µV at 10 Hz (sines, zero phase). */
export const STEPS_AUX_TONES = [{ hz: 2, amplitudeUv: 100 }, { hz: 10, amplitudeUv: 40 }];

export const BUILTIN_SCENARIOS: Readonly<Record<string, ScenarioSpecInput>> = {
  sleep: {
    ...HEAD,
    name: 'sleep',
    description: 'natural sleep: hypnogram with NREM NE oscillations (~0.02 Hz), anti-phase blood volume and CSF, micro-arousals on NE peaks, EEG/EMG',
    model: 'sleep',
    optics: SLEEP_OPTICS,
    aux: { content: 'eeg' },
    digital: SLEEP_DIGITAL,
  },
  zolpidem: {
    ...HEAD,
    name: 'zolpidem',
    description: 'sleep under zolpidem: as `sleep` with the NE oscillation amplitude halved',
    model: 'sleep',
    sleep: { neAmplitudeScale: ZOLPIDEM_NE_AMPLITUDE_SCALE },
    optics: SLEEP_OPTICS,
    aux: { content: 'eeg' },
    digital: SLEEP_DIGITAL,
  },
  steps: {
    ...HEAD,
    name: 'steps',
    description: 'calibration: known dF/F steps and sines (0.02 Hz, 1 Hz), linear LEDs, no bleaching/motion/haemodynamics, ambient on',
    model: 'signals',
    signals: STEPS_SIGNALS,
    optics: {
      ledModel: 'linear', bleaching: false, motion: false, haemodynamics: false, temperatureDrift: false,
      brightness: { grabNe: 3e-3, redDye: 2e-3, tissueAf: 6e-4, fiberAf: 3e-4 },
      ambientScale: 1, noiseScale: 0.3, gridS: 0.002,
    },
    aux: { content: 'tones', tones: STEPS_AUX_TONES },
    digital: [
      { kind: 'pulses', line: 0, firstS: 1, periodS: 1, widthS: 0.01 },
      { kind: 'pulses', line: 1, firstS: 10, periodS: 10, widthS: 0.1 },
    ],
  },
  dark: {
    ...HEAD,
    name: 'dark',
    description: 'fiber capped: no fluorescence signal, only patch-cord autofluorescence, offset, leak light and noise',
    model: 'signals',
    optics: {
      ledModel: 'unit', bleaching: true, motion: false, haemodynamics: false, temperatureDrift: true,
      brightness: { grabNe: 0, redDye: 0, tissueAf: 0, fiberAf: 3e-4 },
      ambientScale: 0.2, noiseScale: 1, gridS: 0.01,
    },
    aux: { content: 'none' },
    digital: [{ kind: 'pulses', line: 0, firstS: 1, periodS: 1, widthS: 0.01 }],
  },
};
