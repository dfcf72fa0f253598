// Optics of the simulated rig: what each LED excites, what each detector
// collects, how fluorescence bleaches, how blood absorbs, how LEDs turn current
// into light.
//
// Signal model (one LED k, one detector d, time t; see world-impl.ts):
//   codes_kd(t) = P_k(I, T) * gainVPerUw_d * codesPerV_d
//                 * sum_f E[k][f] * C[f][d] * B_f * bleach_f(t) * (1 + r_f(lambda_k) * s_f(t))
//                         * (tissue_f ? motion(t) * haemo(λ_k, t) * haemo(λem_f, t) : 1)
// with P_k the LED power at the fiber tip (µW), E the excitation efficiency of
// fluorophore f at LED k's wavelength (relative to its excitation peak), C the
// fraction of f's emission passed by detector d's filter, B_f the collected
// fluorescence (µW) per µW of excitation at peak efficiency (scenario-dependent:
// zero for sensors when the fiber is capped), s_f the underlying signal, r_f the
// wavelength dependence of the response (GRAB-NE: 0 at 405 nm, the isosbestic
// point, 1 from 450 nm), haemo(λ, t) = exp(-h(λ) * bloodVolume(t)) the blood
// transmission on the excitation path (LED wavelength) and on the way back
// (the fluorophore's emission peak λem_f).
import type { BleachParams, DetectorBand, FluorophoreId, LedUnitParams } from './types.ts';
import { FLUOROPHORES } from './types.ts';
import type { Rng } from './rng.ts';
import { bloodExtinctionPerCmPerM, DEFAULT_HB_SATURATION, HB_TABLE_FIRST_NM, HB_TABLE_LAST_NM } from '../../protocol/src/haemoglobin.ts';

export interface FluorophoreSpec {
  id: FluorophoreId;
  label: string;
  /** Excitation spectrum: sum of Gaussians, relative efficiency (peak ~1). */
  excitation: ReadonlyArray<{ peakNm: number; sigmaNm: number; weight: number }>;
  /** Response of fluorescence to the underlying signal vs excitation wavelength: linear ramp from (nm, r) to (nm, r). */
  response: { fromNm: number; fromR: number; toNm: number; toR: number };
  /** Emission peak, nm: blood absorbs tissue fluorescence at this wavelength on its way back to the fiber. */
  emissionNm: number;
  /** Tissue fluorophores see motion and blood absorption; patch-cord autofluorescence does not. */
  tissue: boolean;
  bleach: BleachParams;
}

/**
 * Default fluorophores. Bleaching is time-based (double exponential from
 * world t = 0, whether or not the LEDs are on): a simplification of dose-based
 * bleaching. Time constants sit inside pyPhotometry's fit bounds
 * (fast 60-600 s, slow 600-36 000 s).
 */
export const FLUOROPHORE_SPECS: readonly FluorophoreSpec[] = [
  {
    id: 'grabNe',
    label: 'GRAB-NE2m (cpGFP sensor, green emission)',
    // anionic (ligand-sensitive) peak near 495 nm, neutral peak near 400 nm
    excitation: [{ peakNm: 495, sigmaNm: 28, weight: 1 }, { peakNm: 400, sigmaNm: 22, weight: 0.35 }],
    response: { fromNm: 410, fromR: 0, toNm: 450, toR: 1 },
    emissionNm: 515,
    tissue: true,
    bleach: { fastFraction: 0.08, fastTauS: 200, slowFraction: 0.15, slowTauS: 3000 },
  },
  {
    id: 'redDye',
    label: 'intravascular red dye (rhodamine-dextran-like): fluorescence tracks blood volume',
    excitation: [{ peakNm: 555, sigmaNm: 35, weight: 1 }],
    response: { fromNm: 300, fromR: 1, toNm: 800, toR: 1 },
    emissionNm: 580,
    tissue: true,
    bleach: { fastFraction: 0.05, fastTauS: 400, slowFraction: 0.1, slowTauS: 9000 },
  },
  {
    id: 'tissueAf',
    label: 'tissue autofluorescence (flavins), broad, strongest at short wavelengths',
    excitation: [{ peakNm: 380, sigmaNm: 50, weight: 1 }, { peakNm: 450, sigmaNm: 40, weight: 0.3 }],
    response: { fromNm: 300, fromR: 0, toNm: 800, toR: 0 },
    emissionNm: 530,
    tissue: true,
    bleach: { fastFraction: 0.15, fastTauS: 120, slowFraction: 0.2, slowTauS: 1800 },
  },
  {
    id: 'fiberAf',
    label: 'patch-cord/fiber autofluorescence (present with a capped fiber)',
    excitation: [{ peakNm: 400, sigmaNm: 60, weight: 1 }],
    response: { fromNm: 300, fromR: 0, toNm: 800, toR: 0 },
    emissionNm: 520,
    tissue: false,
    bleach: { fastFraction: 0.3, fastTauS: 90, slowFraction: 0.3, slowTauS: 1200 },
  },
];

/**
 * Fraction of each fluorophore's emission passed by a detector's filter
 * (collection[band][fluorophore index]). Off-band entries are bleed-through.
 */
export const COLLECTION: Readonly<Record<DetectorBand, readonly number[]>> = {
  //          grabNe redDye tissueAf fiberAf
  green: [1.0, 0.02, 1.0, 1.0],
  red: [0.06, 1.0, 0.4, 0.5],
};

/** Relative excitation efficiency of a fluorophore at a wavelength. */
export function excitationEfficiency(spec: FluorophoreSpec, wavelengthNm: number): number {
  let e = 0;
  for (const g of spec.excitation) {
    const z = (wavelengthNm - g.peakNm) / g.sigmaNm;
    e += g.weight * Math.exp(-0.5 * z * z);
  }
  return e;
}

/** How much the fluorophore's fluorescence follows its underlying signal at this excitation wavelength. */
export function responseAt(spec: FluorophoreSpec, wavelengthNm: number): number {
  const { fromNm, fromR, toNm, toR } = spec.response;
  if (wavelengthNm <= fromNm) return fromR;
  if (wavelengthNm >= toNm) return toR;
  return fromR + ((toR - fromR) * (wavelengthNm - fromNm)) / (toNm - fromNm);
}

/** Fraction of the initial fluorescence left at t (double exponential, 1 at t <= 0). */
export function bleachFactor(p: BleachParams, tS: number): number {
  if (tS <= 0) return 1;
  return (
    1 - p.fastFraction - p.slowFraction + p.fastFraction * Math.exp(-tS / p.fastTauS) + p.slowFraction * Math.exp(-tS / p.slowTauS)
  );
}

/**
 * Blood in the sampled tissue, for the haemodynamic confound (Zhang et al. 2022,
 * Turner et al. 2020: blood-volume changes leak into every photometry channel,
 * differently per wavelength, so the 405 nm control cannot fully correct them).
 * Absorption follows haemoglobin's published extinction spectra
 * (`protocol/src/haemoglobin.ts`, Prahl's tabulation), so it is strongest near
 * 405-430 nm (Soret band: ~11x 470 nm at saturation 0.6), weaker at 560 nm and
 * small at 630 nm.
 */
export interface HaemoTissue {
  /** Haemoglobin oxygen saturation of the sampled blood (0..1). */
  saturation: number;
  /** Total haemoglobin concentration of the tissue at baseline blood volume, mol/L. */
  totalHbM: number;
  /** Effective optical path of excitation light through the sampled tissue, cm (one path for all wavelengths: a simplification). */
  effectivePathCm: number;
}

/**
 * Defaults: saturation 0.6 and total haemoglobin 100 µM (baselines commonly
 * assumed for mouse cortex in optical imaging); effective path 200 µm (the depth
 * a 400 µm fiber samples). Giving h(405) ≈ 1.40, h(470) ≈ 0.122, h(560) ≈ 0.189,
 * h(630) ≈ 0.011.
 */
export const HAEMO_TISSUE: Readonly<HaemoTissue> = { saturation: DEFAULT_HB_SATURATION, totalHbM: 100e-6, effectivePathCm: 0.02 };

/**
 * Blood absorption coefficient h(λ) of the excitation path at an LED
 * wavelength: fractional change of tissue fluorescence per unit fractional
 * blood-volume change (dimensionless; transmission = exp(−h · bloodVolume), so
 * bloodVolume 0.01 = +1 % blood volume dims the light by ≈ h %).
 * Modified Beer-Lambert: h = ln(10) · ε_blood(λ, S) · c_HbT · L, with ε_blood
 * the saturation-weighted molar extinction (cm⁻¹/M). Outside the table's
 * 350-700 nm the nearest end's value is used (blood absorbs little beyond 700 nm).
 */
export function haemoCoefficient(wavelengthNm: number, tissue: Readonly<HaemoTissue> = HAEMO_TISSUE): number {
  const nm = Math.min(Math.max(wavelengthNm, HB_TABLE_FIRST_NM), HB_TABLE_LAST_NM);
  return Math.LN10 * bloodExtinctionPerCmPerM(nm, tissue.saturation) * tissue.totalHbM * tissue.effectivePathCm;
}

/** Transmission factor of tissue fluorescence excited at this wavelength for a fractional blood-volume change. */
export function haemoFactor(wavelengthNm: number, bloodVolume: number): number {
  return Math.exp(-haemoCoefficient(wavelengthNm) * bloodVolume);
}

// ------------------------------------------------------------------ LEDs

/** Nominal LED parameters by wavelength class (before per-unit spread). */
export function nominalLedParams(wavelengthNm: number): LedUnitParams {
  const base = { wavelengthNm, referenceTemperatureC: 25 };
  if (wavelengthNm < 430) return { ...base, slopeUwPerMa: 0.9, thresholdMa: 2, droopPerMa: 0.001, tempCoeffPerC: -0.002 };
  if (wavelengthNm < 500) return { ...base, slopeUwPerMa: 1.4, thresholdMa: 1.5, droopPerMa: 0.0008, tempCoeffPerC: -0.0015 };
  if (wavelengthNm < 600) return { ...base, slopeUwPerMa: 0.5, thresholdMa: 3, droopPerMa: 0.0012, tempCoeffPerC: -0.004 };
  return { ...base, slopeUwPerMa: 1.0, thresholdMa: 2, droopPerMa: 0.001, tempCoeffPerC: -0.006 };
}

/** One unit's LED: nominal parameters with a per-unit spread (slope ±10 %, threshold ±30 %, droop ±20 %, tempco ±20 %). */
export function unitLedParams(wavelengthNm: number, rng: Rng): LedUnitParams {
  const n = nominalLedParams(wavelengthNm);
  return {
    ...n,
    slopeUwPerMa: n.slopeUwPerMa * rng.uniform(0.9, 1.1),
    thresholdMa: n.thresholdMa * rng.uniform(0.7, 1.3),
    droopPerMa: n.droopPerMa * rng.uniform(0.8, 1.2),
    tempCoeffPerC: n.tempCoeffPerC * rng.uniform(0.8, 1.2),
  };
}

/** A linear LED: P = slope * I exactly (no threshold, droop or temperature dependence). */
export function linearLedParams(wavelengthNm: number): LedUnitParams {
  return { ...nominalLedParams(wavelengthNm), thresholdMa: 0, droopPerMa: 0, tempCoeffPerC: 0 };
}

/** Current above threshold beyond which the droop curve would turn down; power is held flat there. */
export function ledMaxExcessMa(p: LedUnitParams): number {
  return p.droopPerMa > 0 ? 0.5 / p.droopPerMa : Number.POSITIVE_INFINITY;
}

/** Drive shape in mA-equivalent: x * (1 - droop * x), x = clamp(I - threshold, 0, max). */
export function ledShape(p: LedUnitParams, currentMa: number): number {
  let x = currentMa - p.thresholdMa;
  if (!(x > 0)) return 0;
  if (!(p.droopPerMa > 0)) return x;
  const xm = ledMaxExcessMa(p);
  if (x > xm) x = xm;
  // x (1 - d x) written as xm/2 - d (xm - x)^2 (xm = 1/(2d)): the same curve, but
  // every step is monotone under floating-point rounding, so power never dips near the peak.
  const r = xm - x;
  return xm / 2 - p.droopPerMa * r * r;
}

/** d(shape)/d(current) at a current. */
export function ledShapeSlope(p: LedUnitParams, currentMa: number): number {
  const x = currentMa - p.thresholdMa;
  if (!(x > 0) || x >= ledMaxExcessMa(p)) return 0;
  return 1 - 2 * p.droopPerMa * x;
}

/** Temperature factor of the LED's efficiency (never negative). */
export function ledTemperatureFactor(p: LedUnitParams, temperatureC: number): number {
  const f = 1 + p.tempCoeffPerC * (temperatureC - p.referenceTemperatureC);
  return Math.max(f, 0);
}

/** LED optical power at the fiber tip, µW. */
export function ledPowerUw(p: LedUnitParams, currentMa: number, temperatureC: number): number {
  return p.slopeUwPerMa * ledTemperatureFactor(p, temperatureC) * ledShape(p, currentMa);
}

/** Excitation matrix E[led][fluorophore] for LEDs at these wavelengths. */
export function excitationMatrix(ledWavelengthsNm: readonly number[], specs: readonly FluorophoreSpec[] = FLUOROPHORE_SPECS): number[][] {
  return ledWavelengthsNm.map((nm) => specs.map((s) => excitationEfficiency(s, nm)));
}

/** Collection matrix C[fluorophore][detector] for detectors with these bands. */
export function collectionMatrix(bands: readonly DetectorBand[]): number[][] {
  return FLUOROPHORES.map((_, f) => bands.map((b) => COLLECTION[b][f]!));
}
