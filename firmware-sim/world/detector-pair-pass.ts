// The detector render's pass for detectors 0 and 1 together (the default board's two, in the device's case):
// detectorPass's arithmetic for both, with the per-sample inputs (LED drive shapes, interpolation fraction,
// flicker sines, noise word) made once per sample in the loop rather than read from the chunk's arrays.
import type { DetectorChunk, DetectorPassParams } from './detector-pass.ts';
import { hash32Into, normalTailOfArgs, ZIG_K, ZIG_W } from './rng.ts';

// Module-local copies: imported bindings are read through getters in some loaders (tsx), costly in hot loops.
const ZK = ZIG_K;
const ZW = ZIG_W;
const tailOfArgs = normalTailOfArgs;
/** The Ziggurat tail's arguments u and hz (cells: arguments of a call are boxed). */
const TAIL_ARGS = new Float64Array(2);
const hashInto = hash32Into;
/** The noise hash bases of a pass (a store and a load: no boxed number per chunk). */
const BASES = new Int32Array(2);

/**
 * detectorPass for two detectors at once, integer codes with noise: the same arithmetic per detector, the
 * per-sample inputs made once for both, and here rather than read from the chunk's arrays: the LED drive
 * shapes from the request's currents, the interpolation fraction from the sample's time (as the layout
 * computes it), the two flicker sines by rotation (as flickerSines), the noise word from the lattice step (or
 * c.word off the lattice). Of the layout it reads the runs (segAt, segO0/1, runGrid), lit and noiseHi. Only
 * for detectors with no extras, not dead, noise on (pairable); otherwise detectorPass.
 */
export function detectorPairPass(
  c: DetectorChunk, gv: Float64Array, p: DetectorPassParams, q: DetectorPassParams, oP: Int32Array, oQ: Int32Array,
): void {
  const nD = p.nD;
  const segAt = c.segAt;
  const nH = p.flicker.length;
  const pdc = p.dc;
  const pf0 = nH < 1 ? 0 : p.flicker[0]!;
  const pf1 = nH < 2 ? 0 : p.flicker[1]!;
  const qdc = q.dc;
  const qf0 = nH < 1 ? 0 : q.flicker[0]!;
  const qf1 = nH < 2 ? 0 : q.flicker[1]!;
  const nLit = c.nLit;
  const k0 = nLit > 0 ? c.lit[0]! : -1;
  const k1 = nLit > 1 ? c.lit[1]! : -1;
  const k2 = nLit > 2 ? c.lit[2]! : -1;
  const k3 = nLit > 3 ? c.lit[3]! : -1;
  // an unused slot holds LED 0's currents but never reads them (its shape is 0)
  const cur = c.currentMa;
  const C0 = cur[Math.max(k0, 0)]!;
  const C1 = cur[Math.max(k1, 0)]!;
  const C2 = cur[Math.max(k2, 0)]!;
  const C3 = cur[Math.max(k3, 0)]!;
  const th = c.ledTh;
  const xm = c.ledXMax;
  const dr = c.ledDroop;
  const on = c.ledOn;
  const th0 = k0 < 0 ? 0 : th[k0]!;
  const xm0 = k0 < 0 ? 0 : xm[k0]!;
  const dr0 = k0 < 0 ? 0 : dr[k0]!;
  const on0 = k0 < 0 ? 0 : on[k0]!;
  const th1 = k1 < 0 ? 0 : th[k1]!;
  const xm1 = k1 < 0 ? 0 : xm[k1]!;
  const dr1 = k1 < 0 ? 0 : dr[k1]!;
  const on1 = k1 < 0 ? 0 : on[k1]!;
  const th2 = k2 < 0 ? 0 : th[k2]!;
  const xm2 = k2 < 0 ? 0 : xm[k2]!;
  const dr2 = k2 < 0 ? 0 : dr[k2]!;
  const on2 = k2 < 0 ? 0 : on[k2]!;
  const th3 = k3 < 0 ? 0 : th[k3]!;
  const xm3 = k3 < 0 ? 0 : xm[k3]!;
  const dr3 = k3 < 0 ? 0 : dr[k3]!;
  const on3 = k3 < 0 ? 0 : on[k3]!;
  const pOff = p.offset;
  const pMx = p.maxCode;
  const pR2 = p.read2;
  const pSh = p.shot;
  const pNf = p.noiseFactor;
  const qOff = q.offset;
  const qMx = q.maxCode;
  const qR2 = q.read2;
  const qSh = q.shot;
  const qNf = q.noiseFactor;
  const cw = c.word;
  const wStep = c.wordStep;
  let word = c.word0;
  const tail = c.tail;
  hashInto(BASES, 0, p.noiseKey, c.noiseHi);
  hashInto(BASES, 1, q.noiseKey, c.noiseHi);
  const pBase = BASES[0]!;
  const qBase = BASES[1]!;
  const pd = p.d;
  const qd = q.d;
  const t0 = c.t0S;
  const dt = c.dtS;
  const at = c.at;
  const invH = c.invGridS;
  // the two flicker sines, rotated per sample from their exact phase at the chunk's start as flickerSines
  // does (a harmonic the detectors lack stays 0)
  const tStart = t0 + at * dt;
  let sa = 0;
  let ca = 0;
  let cda = 1;
  let sda = 0;
  let sb = 0;
  let cb = 0;
  let cdb = 1;
  let sdb = 0;
  if (nH >= 1) {
    const xa = c.flickHz[0]! * tStart;
    const thA = 2 * Math.PI * (xa - Math.floor(xa) + c.flickPhaseCycles[0]!);
    sa = Math.sin(thA);
    ca = Math.cos(thA);
    cda = c.flickCosStep[0]!;
    sda = c.flickSinStep[0]!;
  }
  if (nH >= 2) {
    const xb = c.flickHz[1]! * tStart;
    const thB = 2 * Math.PI * (xb - Math.floor(xb) + c.flickPhaseCycles[1]!);
    sb = Math.sin(thB);
    cb = Math.cos(thB);
    cdb = c.flickCosStep[1]!;
    sdb = c.flickSinStep[1]!;
  }
  for (let r = 0; r < c.runs; r++) {
    const o0 = c.segO0[r]!;
    const o1 = c.segO1[r]!;
    const g = c.runGrid[r]!;
    const pa0 = k0 < 0 ? 0 : gv[o0 + k0 * nD + pd]!;
    const ps0 = k0 < 0 ? 0 : gv[o1 + k0 * nD + pd]! - pa0;
    const pa1 = k1 < 0 ? 0 : gv[o0 + k1 * nD + pd]!;
    const ps1 = k1 < 0 ? 0 : gv[o1 + k1 * nD + pd]! - pa1;
    const pa2 = k2 < 0 ? 0 : gv[o0 + k2 * nD + pd]!;
    const ps2 = k2 < 0 ? 0 : gv[o1 + k2 * nD + pd]! - pa2;
    const pa3 = k3 < 0 ? 0 : gv[o0 + k3 * nD + pd]!;
    const ps3 = k3 < 0 ? 0 : gv[o1 + k3 * nD + pd]! - pa3;
    const qa0 = k0 < 0 ? 0 : gv[o0 + k0 * nD + qd]!;
    const qs0 = k0 < 0 ? 0 : gv[o1 + k0 * nD + qd]! - qa0;
    const qa1 = k1 < 0 ? 0 : gv[o0 + k1 * nD + qd]!;
    const qs1 = k1 < 0 ? 0 : gv[o1 + k1 * nD + qd]! - qa1;
    const qa2 = k2 < 0 ? 0 : gv[o0 + k2 * nD + qd]!;
    const qs2 = k2 < 0 ? 0 : gv[o1 + k2 * nD + qd]! - qa2;
    const qa3 = k3 < 0 ? 0 : gv[o0 + k3 * nD + qd]!;
    const qs3 = k3 < 0 ? 0 : gv[o1 + k3 * nD + qd]! - qa3;
    const end = segAt[r + 1]!;
    for (let i = segAt[r]!; i < end; i++) {
      const f = (t0 + (at + i) * dt) * invH - g;
      const fl0 = sa;
      const fl1 = sb;
      const sa2 = sa * cda + ca * sda;
      ca = ca * cda - sa * sda;
      sa = sa2;
      const sb2 = sb * cdb + cb * sdb;
      cb = cb * cdb - sb * sdb;
      sb = sb2;
      // drive shapes clamp(I - th, 0, xm) * (1 - dr * x) * on, written out (a call would box its result);
      // an unused slot's e stays 0 and its constants are 0: shape 0 (the fourth slot only when used)
      let e0 = 0;
      let e1 = 0;
      let e2 = 0;
      if (k0 >= 0) {
        e0 = C0[at + i]! - th0;
        if (!(e0 > 0)) e0 = 0;
        else if (e0 > xm0) e0 = xm0;
      }
      if (k1 >= 0) {
        e1 = C1[at + i]! - th1;
        if (!(e1 > 0)) e1 = 0;
        else if (e1 > xm1) e1 = xm1;
      }
      if (k2 >= 0) {
        e2 = C2[at + i]! - th2;
        if (!(e2 > 0)) e2 = 0;
        else if (e2 > xm2) e2 = xm2;
      }
      const s0 = e0 * (1 - dr0 * e0) * on0;
      const s1 = e1 * (1 - dr1 * e1) * on1;
      const s2 = e2 * (1 - dr2 * e2) * on2;
      // c.word read on every sample (CHUNK long, i < n): read only off the lattice, its load had no type feedback
      // until the first chunk off it (a noise high word's change, 215 s in) and deoptimised the pass there
      const wi = cw[i]!;
      const w = wStep !== 0 ? word : wi;
      word = (word + wStep) | 0;
      // the same sums as detectorPass, less its terms that are +0 here (the extras; a fourth LED slot left
      // unused): adding +0 changes a sum at most from -0 to +0, which rounds to the same code
      let lp = pdc + pf0 * fl0 + pf1 * fl1 + s0 * (pa0 + ps0 * f) + s1 * (pa1 + ps1 * f) + s2 * (pa2 + ps2 * f);
      let lq = qdc + qf0 * fl0 + qf1 * fl1 + s0 * (qa0 + qs0 * f) + s1 * (qa1 + qs1 * f) + s2 * (qa2 + qs2 * f);
      if (k3 >= 0) {
        let e3 = C3[at + i]! - th3;
        if (!(e3 > 0)) e3 = 0;
        else if (e3 > xm3) e3 = xm3;
        const s3 = e3 * (1 - dr3 * e3) * on3;
        lp += s3 * (pa3 + ps3 * f);
        lq += s3 * (qa3 + qs3 * f);
      }
      // normalOfWord for each, written out (a call that is not inlined returns a boxed number: garbage per sample)
      let u = pBase ^ w;
      u ^= u >>> 16;
      u = Math.imul(u, 0x7feb352d);
      u ^= u >>> 15;
      u = Math.imul(u, 0x846ca68b);
      u ^= u >>> 16;
      let iz = u & 127;
      let hz = u & -128;
      let zp: number;
      if (Math.abs(hz) < ZK[iz]!) zp = hz * ZW[iz]!;
      else {
        TAIL_ARGS[0] = u >>> 0;
        TAIL_ARGS[1] = hz;
        tailOfArgs(tail, 0, TAIL_ARGS, iz);
        zp = tail[0]!;
      }
      u = qBase ^ w;
      u ^= u >>> 16;
      u = Math.imul(u, 0x7feb352d);
      u ^= u >>> 15;
      u = Math.imul(u, 0x846ca68b);
      u ^= u >>> 16;
      iz = u & 127;
      hz = u & -128;
      let zq: number;
      if (Math.abs(hz) < ZK[iz]!) zq = hz * ZW[iz]!;
      else {
        TAIL_ARGS[0] = u >>> 0;
        TAIL_ARGS[1] = hz;
        tailOfArgs(tail, 0, TAIL_ARGS, iz);
        zq = tail[0]!;
      }
      let vp = pOff + lp + Math.sqrt(pR2 + pSh * (lp > 0 ? lp : 0)) * pNf * zp;
      let vq = qOff + lq + Math.sqrt(qR2 + qSh * (lq > 0 ? lq : 0)) * qNf * zq;
      if (vp < 0) vp = 0;
      else if (vp > pMx) vp = pMx;
      oP[at + i] = (vp + 0.5) | 0;
      if (vq < 0) vq = 0;
      else if (vq > qMx) vq = qMx;
      oQ[at + i] = (vq + 0.5) | 0;
    }
  }
}
