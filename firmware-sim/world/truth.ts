// The ground-truth API of a simulated world (GroundTruth, world-api.ts): the underlying signals,
// states, events and optics the tests measure the host against, and noise-free renders. It reads
// the world's own parameters and gain grid (the same arithmetic as the render loop), never a copy.
import { bleachFactor, ledShapeSlope } from './optics.ts';
import { badRequest } from './render-common.ts';
import { type AuxEnvelope, FLUOR_COUNT, FLUOROPHORES } from './types.ts';
import type { GroundTruth } from './world-api.ts';
import type { SimWorldImpl } from './world-impl.ts';

/** The truth object of world `w` (built once, with the world). */
export function groundTruthOf(w: SimWorldImpl): GroundTruth {
  const sc = w.sc;
  return {
    scenario: { name: sc.name, description: sc.description, params: sc.params },
    fluorophores: FLUOROPHORES,
    neOscillation: sc.neOscillation,
    signal: (f, tS) => {
      w.fluorIndex(f);
      return sc.signal(f, tS);
    },
    signals: (f, t0S, dtS, count, out) => {
      const fi = w.fluorIndex(f);
      const o = out ?? new Float64Array(count);
      const tmp = new Float64Array(FLUOR_COUNT);
      for (let i = 0; i < count; i++) {
        sc.signalsAt(t0S + i * dtS, tmp);
        o[i] = tmp[fi]!;
      }
      return o;
    },
    physiology: (tS) => ({ tS, state: sc.stateAt(tS), ne: sc.ne(tS), bloodVolume: sc.bloodVolume(tS), csf: sc.csf(tS) }),
    sleepStateAt: (tS) => sc.stateAt(tS),
    bouts: (t0S, t1S) => sc.bouts(t0S, t1S),
    events: (t0S, t1S, kinds) => {
      const ev = sc.events(t0S, t1S);
      return kinds ? ev.filter((e) => kinds.includes(e.kind)) : ev;
    },
    neCycles: (t0S, t1S) => sc.neCycles(t0S, t1S),
    motionEvents: (t0S, t1S) => (w.params.flags.motion ? sc.motionEvents(t0S, t1S) : []),
    crosstalk: () => ({
      excitation: Array.from({ length: w.nL }, (_, k) => Array.from(w.E.subarray(k * FLUOR_COUNT, (k + 1) * FLUOR_COUNT))),
      collection: Array.from({ length: FLUOR_COUNT }, (_, f) => Array.from(w.C.subarray(f * w.nD, (f + 1) * w.nD))),
      response: Array.from({ length: w.nL }, (_, k) => Array.from(w.R.subarray(k * FLUOR_COUNT, (k + 1) * FLUOR_COUNT))),
      brightness: Array.from(w.bright),
      tissue: Array.from(w.tissue, (x) => x === 1),
    }),
    bleachFactor: (f, tS) => (w.params.flags.bleaching ? bleachFactor(w.params.fluorophores[w.fluorIndex(f)]!.bleach, tS) : 1),
    motionFactor: (tS) => (w.params.flags.motion ? sc.motionFactor(tS) : 1),
    haemoFactor: (k, tS) => {
      w.checkLed(k);
      return w.params.flags.haemodynamics ? Math.exp(-w.haemoCoef[k]! * sc.bloodVolume(tS)) : 1;
    },
    emissionHaemoFactor: (f, tS) => {
      const fi = w.fluorIndex(f);
      return w.params.flags.haemodynamics ? Math.exp(-w.haemoEmCoef[fi]! * sc.bloodVolume(tS)) : 1;
    },
    temperatureC: (tS) => w.temperatureC(tS),
    codesPerMa: (k, d, tS, atCurrentMa) => {
      w.checkLed(k);
      w.checkDet(d);
      const slope = atCurrentMa === undefined ? 1 : ledShapeSlope(w.params.leds[k]!, atCurrentMa);
      return w.ledOn[k]! * slope * w.gainAt(k, d, tS);
    },
    fluorophoreCodesPerMa: (k, f, d, tS) => {
      w.checkLed(k);
      w.checkDet(d);
      return w.ledOn[k]! * w.fluorophoreGainAt(k, w.fluorIndex(f), d, tS);
    },
    detectorCodes: (currents, tS, out) => {
      if (currents.length !== w.nL) badRequest(`expected ${w.nL} LED currents, got ${currents.length}`);
      const o = out ?? new Float64Array(w.nD);
      w.renderNoiseFree(tS, 1, 1, Array.from(currents, (c) => Float64Array.of(c)), Array.from({ length: w.nD }, (_, d) => o.subarray(d, d + 1)));
      return o;
    },
    ledContributions: (currents, tS) => {
      if (currents.length !== w.nL) badRequest(`expected ${w.nL} LED currents, got ${currents.length}`);
      return Array.from({ length: w.nL }, (_, k) => {
        const s = w.ledShapeOf(k, currents[k]!);
        return Float64Array.from({ length: w.nD }, (_, d) => s * w.gainAt(k, d, tS));
      });
    },
    ambientCodes: (d, tS) => {
      w.checkDet(d);
      return w.ambientAt(d, tS);
    },
    offsetCodes: (d) => {
      w.checkDet(d);
      return w.offC[d]!;
    },
    noiseSigmaCodes: (d, lightCodes, oversampling) => {
      w.checkDet(d);
      if (!w.params.flags.noise) return 0;
      return (Math.sqrt(w.readC2[d]! + w.shotC[d]! * Math.max(0, lightCodes)) / Math.sqrt(oversampling)) * w.detNoiseFactor[d]!;
    },
    renderDetectors: (r) => {
      w.checkDetectorRequest(r, r.out.length);
      w.renderNoiseFree(r.t0S, r.dtS, r.count, r.ledCurrentMa, r.out);
    },
    auxMicrovolts: (a, t0S, dtS, count, out) => {
      w.checkAux(a);
      const o = out ?? new Float64Array(count);
      w.aux.microvolts(a, t0S, dtS, count, o, false);
      return o;
    },
    auxEnvelope: (tS) => {
      const e: AuxEnvelope = { deltaUv: 0, thetaUv: 0, sigmaUv: 0, betaUv: 0, emgUv: 0 };
      sc.auxEnvelope(tS, e);
      return e;
    },
    auxCodesPerUv: (a) => {
      w.checkAux(a);
      return w.aux.codesPerUv[a]!;
    },
    auxCodeRange: (a) => {
      w.checkAux(a);
      return { min: w.aux.minCode[a]!, max: w.aux.maxCode[a]! };
    },
  };
}
