// A noise-free linear world for tests and benchmarks (scenario "linear").
// Not a model of anything biological: detector code = offset + sum over LEDs of
// gain[detector][led] * current_mA, exactly, so a test can predict every code
// from the modulation schedule. Aux inputs carry a sine per input; digital
// inputs optionally carry a periodic TTL.
import type { AuxRenderRequest, DetectorRenderRequest, World, WorldBoard, WorldDigitalEdge } from '../world/world.ts';

export interface LinearWorldOptions {
  /** Code with every LED dark. Default 1000. */
  offsetCode?: number;
  /**
   * Codes per mA, [detector position][LED position] (board order). Default:
   * detector d sees LED l with gain 100 / (1 + d + l).
   */
  gainCodesPerMa?: number[][];
  /** Aux input i is a sine of amplitude auxAmplitudeCode at auxFrequencyHz * (i + 1). */
  auxAmplitudeCode?: number;
  auxFrequencyHz?: number;
  /** A TTL on `lineId`: rising every periodS (first at phaseS), high for widthS. */
  ttl?: { lineId: number; periodS: number; widthS: number; phaseS?: number } | null;
}

export class LinearWorld implements World {
  readonly scenario = 'linear';
  readonly offsetCode: number;
  readonly gain: number[][];
  private readonly auxAmplitude: number;
  private readonly auxFrequencyHz: number;
  private readonly ttl: LinearWorldOptions['ttl'];
  /** Render calls, for tests that check the call sequence. */
  readonly calls = { detectors: 0, aux: 0, digital: 0 };
  private scratch = new Float64Array(0);

  constructor(
    readonly board: WorldBoard,
    readonly seed = 0,
    options: LinearWorldOptions = {},
  ) {
    this.offsetCode = options.offsetCode ?? 1000;
    this.gain = options.gainCodesPerMa ?? board.detectors.map((_, d) => board.leds.map((_, l) => 100 / (1 + d + l)));
    this.auxAmplitude = options.auxAmplitudeCode ?? 1000;
    this.auxFrequencyHz = options.auxFrequencyHz ?? 10;
    this.ttl = options.ttl ?? null;
  }

  /** The code detector `d` (board position) reads for LED currents `currentsMa` (board order). */
  expectedCode(d: number, currentsMa: ArrayLike<number>): number {
    let v = this.offsetCode;
    const g = this.gain[d]!;
    for (let l = 0; l < currentsMa.length; l++) if (g[l] !== 0) v += g[l]! * currentsMa[l]!;
    return Math.round(v);
  }

  renderDetectors(request: DetectorRenderRequest): void {
    this.calls.detectors++;
    const { count, ledCurrentMa, out } = request;
    if (this.scratch.length < count) this.scratch = new Float64Array(count);
    const acc = this.scratch;
    for (let d = 0; d < out.length; d++) {
      const g = this.gain[d]!;
      acc.fill(this.offsetCode, 0, count);
      // same summation order as expectedCode: offset, then LEDs in board order
      for (let l = 0; l < ledCurrentMa.length; l++) {
        const gl = g[l]!;
        if (gl === 0) continue;
        const c = ledCurrentMa[l]!;
        for (let i = 0; i < count; i++) acc[i] = acc[i]! + gl * c[i]!;
      }
      const dst = out[d]!;
      for (let i = 0; i < count; i++) dst[i] = Math.round(acc[i]!);
    }
  }

  renderAux(request: AuxRenderRequest): void {
    this.calls.aux++;
    const { t0S, dtS, count, out } = request;
    for (let a = 0; a < out.length; a++) {
      const dst = out[a]!;
      const w = 2 * Math.PI * this.auxFrequencyHz * (a + 1);
      for (let i = 0; i < count; i++) dst[i] = Math.round(this.auxAmplitude * Math.sin(w * (t0S + i * dtS)));
    }
  }

  digitalEdges(t0S: number, t1S: number): WorldDigitalEdge[] {
    this.calls.digital++;
    const ttl = this.ttl;
    if (!ttl) return [];
    const edges: WorldDigitalEdge[] = [];
    const phase = ttl.phaseS ?? 0;
    let k = Math.max(0, Math.floor((t0S - phase - ttl.widthS) / ttl.periodS));
    for (;; k++) {
      const rise = phase + k * ttl.periodS;
      if (rise >= t1S) break;
      const fall = rise + ttl.widthS;
      if (rise >= t0S) edges.push({ lineId: ttl.lineId, rising: true, tS: rise });
      if (fall >= t0S && fall < t1S) edges.push({ lineId: ttl.lineId, rising: false, tS: fall });
    }
    return edges.sort((a, b) => a.tS - b.tS);
  }
}
