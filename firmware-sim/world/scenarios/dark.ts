// `dark`: a rig with the fiber capped. No sensor or tissue fluorescence; the
// LEDs excite only the patch cord's own autofluorescence (small, bleaching),
// plus detector offset, noise and light leaking around the cap (ambient x0.2).
// Aux inputs carry amplifier noise and mains pickup only (no animal).
// Digital inputs: line 0, 10 ms pulses at 1 Hz (rising at t = 1, 2, 3 ... s).
import { pulseTrainEdges, type ScenarioDefaults } from '../scenario.ts';
import type { ScenarioEdge, WorldEvent } from '../types.ts';
import { FlatScenario } from './flat.ts';

export const DARK_DEFAULTS: ScenarioDefaults = {
  ledModel: 'unit',
  bleaching: true,
  motion: false,
  haemodynamics: false,
  temperatureDrift: true,
  //          grabNe redDye tissueAf fiberAf
  brightness: [0, 0, 0, 3e-4],
  ambientScale: 0.2,
  noiseScale: 1,
  gridS: 0.01,
};

export class DarkScenario extends FlatScenario {
  readonly name = 'dark';
  readonly description = 'fiber capped: no fluorescence signal, only patch-cord autofluorescence, offset, leak light and noise';
  readonly params = { brightness: DARK_DEFAULTS.brightness, ambientScale: DARK_DEFAULTS.ambientScale, line0: { firstS: 1, periodS: 1, widthS: 0.01 } };
  readonly defaults = DARK_DEFAULTS;
  readonly auxContent = 'none' as const;
  readonly auxTones = [] as const;

  signalsAt(_tS: number, out: Float64Array): void {
    out.fill(0);
  }

  events(_t0S: number, _t1S: number): WorldEvent[] {
    return [];
  }

  digitalEdges(t0S: number, t1S: number, lineCount: number): ScenarioEdge[] {
    const out: ScenarioEdge[] = [];
    if (lineCount > 0) pulseTrainEdges(0, 1, 1, 0.01, t0S, t1S, out);
    return out;
  }
}
