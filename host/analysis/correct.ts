// Corrected signals: bleaching detrend, isosbestic and haemodynamic correction,
// dF/F and z-score, over whole arrays of one recording's demodulated channels.
// The methods, formulas and units are in README.md (same folder).

import { type BleachingFit, detrendBleaching } from '../dsp/bleaching.ts';
import { AnalysisError } from './errors.ts';
import { finiteMedian, type RobustFit, robustRegression, zScore } from './stats.ts';

type Arr = ArrayLike<number>;

export type CorrectionMethod = 'isosbestic' | 'haemodynamic' | 'none';
export const CORRECTION_METHODS: readonly CorrectionMethod[] = ['isosbestic', 'haemodynamic', 'none'];

/**
 * Blood absorption by LED wavelength: [wavelengthNm, coefficient] rows sorted by
 * wavelength, linearly interpolated (clamped at the ends). A coefficient h is the
 * natural-log attenuation per unit fractional blood-volume change: light excited at
 * that wavelength is multiplied by exp(−h·ΔV/V).
 */
export type AbsorptionTable = ReadonlyArray<readonly [number, number]>;

export function absorptionAt(table: AbsorptionTable, wavelengthNm: number): number {
  if (table.length === 0) throw new AnalysisError('E_ANALYSIS_BAD_INPUT', 'the absorption table is empty; give [wavelengthNm, coefficient] rows');
  for (let i = 1; i < table.length; i++) {
    if (!(table[i]![0] > table[i - 1]![0])) throw new AnalysisError('E_ANALYSIS_BAD_INPUT', 'absorption table rows must be sorted by strictly increasing wavelength');
  }
  const first = table[0]!;
  const last = table[table.length - 1]!;
  if (wavelengthNm <= first[0]) return first[1];
  if (wavelengthNm >= last[0]) return last[1];
  for (let i = 1; i < table.length; i++) {
    const [x1, y1] = table[i]!;
    if (wavelengthNm <= x1) {
      const [x0, y0] = table[i - 1]!;
      return y0 + ((y1 - y0) * (wavelengthNm - x0)) / (x1 - x0);
    }
  }
  return last[1];
}

/** Haemodynamic model coefficients for one (sensor, control, blood-volume) triple. */
export interface HaemoCoefficients {
  /** ln attenuation per unit ΔV/V at the sensor's excitation (e.g. 470 nm) */
  sensor: number;
  /** … at the control's (405 nm); 0 when there is no control channel */
  control: number;
  /** … at the blood-volume channel's (560 nm) */
  bloodVolume: number;
  /** relative change of the dye's fluorescence per unit ΔV/V (1: dye amount follows blood volume); default 1 */
  dyeGain?: number;
}

export interface BleachDetrend {
  /** y / trend (dimensionless, ~1), NaN where y is NaN */
  ratio: Float64Array;
  trend: Float64Array;
  fit: BleachingFit;
}

/** Divides y by its fitted double-exponential bleaching trend (host/dsp/bleaching.ts); maxBins: the fit's data reduction (default 4096). */
export function bleachRatio(tS: Arr, y: Arr, maxBins?: number): BleachDetrend {
  const { detrended, trend, fit } = detrendBleaching(tS, y, { mode: 'divide', ...(maxBins !== undefined ? { maxBins } : {}) });
  return { ratio: detrended, trend, fit };
}

export interface CorrectionInput {
  /** sample times (s), one per sample of every channel */
  tS: Arr;
  /** the sensor channel (e.g. 470 nm excitation of GRAB-NE), demodulated (any linear unit, offset-free) */
  sensor: Arr;
  /** the isosbestic control (405 nm, same fluorophore and detector); needed by 'isosbestic' */
  control?: Arr;
  /** the blood-volume channel (560 nm, intravascular red dye); needed by 'haemodynamic' */
  bloodVolume?: Arr;
}

export interface CorrectionOptions {
  /** default 'haemodynamic' when a blood-volume channel and coefficients are given, else 'isosbestic' when a control is, else 'none' */
  method?: CorrectionMethod;
  /**
   * 'haemodynamic' (required): the absorption coefficients (from haemoglobin spectra), or
   * 'fit': fitted from the data by robust regression — biased wherever the sensor co-varies
   * with blood volume; use it with a calibration window (README.md).
   */
  coefficients?: HaemoCoefficients | 'fit';
  /**
   * 'haemodynamic' with given coefficients: treat them as relative (only their ratios are
   * trusted, e.g. from extinction spectra) and fit their common scale from the control's
   * regression on the blood-volume channel (the control carries no sensor signal). Needs a
   * control channel. Default false.
   */
  fitScale?: boolean;
  /** fit coefficients only where mask[i] (a calibration window); default every sample */
  calibrationMask?: ArrayLike<boolean | number>;
  /** detrend bleaching before correcting (default true) */
  detrend?: boolean;
  /** the bleaching fit searches its time constants on at most this many bin means (default 4096; fewer is faster, e.g. for a live view) */
  bleachingMaxBins?: number;
  /**
   * Light that never reaches tissue (patch-cord and fiber autofluorescence), per input, in the
   * inputs' units: subtracted before anything else. It adds to every channel without motion or
   * blood absorption, so left in it dilutes each channel's blood response by a different
   * fraction. Measure it with the LEDs on at the recording's currents and the fiber capped
   * (measureAutofluorescence in recording.ts). Default 0.
   */
  autofluorescence?: Readonly<AutofluorescenceOffsets>;
}

/** Additive light per input that does not come from the tissue (see CorrectionOptions.autofluorescence). */
export interface AutofluorescenceOffsets {
  sensor?: number;
  control?: number;
  bloodVolume?: number;
}

export interface CorrectionResult {
  method: CorrectionMethod;
  /** corrected dF/F in percent, per sample (NaN where any input is NaN) */
  dffPercent: Float64Array;
  /** z-score of dffPercent (mean/SD over the finite samples) */
  z: Float64Array;
  /** 'haemodynamic': estimated fractional blood-volume change ΔV/V per sample (dimensionless) */
  bloodVolumeChange?: Float64Array;
  /** 'haemodynamic': the coefficients used (given, or fitted) */
  coefficients?: HaemoCoefficients & { fitted: boolean };
  /** 'isosbestic': the control → sensor fit on the detrended ratios */
  isosbesticFit?: { slope: number; intercept: number; n: number };
  /** 'haemodynamic' with fitted coefficients: the regression of ln(sensor) on ln(control), ln(blood volume); with fitScale: of ln(control) on ln(blood volume) */
  regression?: RobustFit;
  /** 'haemodynamic' with fitScale: the factor applied to the given coefficients */
  scale?: number;
  /** the autofluorescence offsets subtracted (inputs' units), when any was given */
  autofluorescence?: AutofluorescenceOffsets;
  /** bleaching fits per input used */
  bleaching: { sensor?: BleachingFit; control?: BleachingFit; bloodVolume?: BleachingFit };
}

function checkLength(name: string, x: Arr | undefined, n: number): void {
  if (x !== undefined && x.length !== n) {
    throw new AnalysisError('E_ANALYSIS_BAD_INPUT', `${name} has ${x.length} samples but tS has ${n}; pass aligned channels of one recording`);
  }
}

function logRatio(tS: Arr, y: Arr, detrend: boolean, maxBins?: number): { ln: Float64Array; fit?: BleachingFit } {
  let ratio: Float64Array;
  let fit: BleachingFit | undefined;
  if (detrend) {
    const d = bleachRatio(tS, y, maxBins);
    ratio = d.ratio;
    fit = d.fit;
  } else {
    const m = finiteMedian(y);
    ratio = Float64Array.from(y, (v) => v / m);
  }
  const ln = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) ln[i] = ratio[i]! > 0 ? Math.log(ratio[i]!) : Number.NaN;
  return fit ? { ln, fit } : { ln };
}

/** exp(x − median x) − 1, in percent. */
function dffOfLog(x: Float64Array): Float64Array {
  const m = finiteMedian(x);
  return Float64Array.from(x, (v) => (Math.exp(v - m) - 1) * 100);
}

/**
 * Corrects one sensor channel. All inputs are whole arrays of one recording at
 * one rate; the result is a dF/F (%) per sample with its z-score.
 */
export function correctSignal(input: CorrectionInput, options: CorrectionOptions = {}): CorrectionResult {
  const n = input.tS.length;
  checkLength('sensor', input.sensor, n);
  checkLength('control', input.control, n);
  checkLength('bloodVolume', input.bloodVolume, n);
  const method = options.method ?? (input.bloodVolume && options.coefficients ? 'haemodynamic' : input.control ? 'isosbestic' : 'none');
  if (!CORRECTION_METHODS.includes(method)) {
    throw new AnalysisError('E_ANALYSIS_BAD_INPUT', `unknown correction method "${String(method)}"; use one of ${CORRECTION_METHODS.join(', ')}`);
  }
  const detrend = options.detrend ?? true;
  const af = options.autofluorescence;
  if (af) input = subtractAutofluorescence(input, af);
  const s = logRatio(input.tS, input.sensor, detrend, options.bleachingMaxBins);
  const bleaching: CorrectionResult['bleaching'] = {};
  if (s.fit) bleaching.sensor = s.fit;
  const finish = <R extends CorrectionResult>(r: R): R => (af ? { ...r, autofluorescence: { ...af } } : r);

  if (method === 'none') {
    const dff = dffOfLog(s.ln);
    return finish({ method, dffPercent: dff, z: zScore(dff), bleaching });
  }

  if (method === 'isosbestic') {
    if (!input.control) throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', "the 'isosbestic' method needs the isosbestic control channel (405 nm); choose 'none' or 'haemodynamic' for a recording without one");
    const c = logRatio(input.tS, input.control, detrend, options.bleachingMaxBins);
    if (c.fit) bleaching.control = c.fit;
    // fit on the ratios (linear domain), as the classic isosbestic fit does
    const sr = Float64Array.from(s.ln, Math.exp);
    const cr = Float64Array.from(c.ln, Math.exp);
    const fit = robustRegression(sr, [cr], options.calibrationMask ? { mask: options.calibrationMask } : {});
    const slope = fit.coefficients[0]!;
    const dff = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const f = slope * cr[i]! + fit.intercept;
      dff[i] = ((sr[i]! - f) / f) * 100;
    }
    return finish({ method, dffPercent: dff, z: zScore(dff), isosbesticFit: { slope, intercept: fit.intercept, n: fit.n }, bleaching });
  }

  // haemodynamic
  if (!input.bloodVolume) {
    throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', "the 'haemodynamic' method needs the blood-volume channel (560 nm, intravascular red dye); choose 'isosbestic' for a recording without one");
  }
  const r = logRatio(input.tS, input.bloodVolume, detrend, options.bleachingMaxBins);
  if (r.fit) bleaching.bloodVolume = r.fit;
  const c = input.control ? logRatio(input.tS, input.control, detrend, options.bleachingMaxBins) : undefined;
  if (c?.fit) bleaching.control = c.fit;
  if (options.coefficients === undefined) {
    throw new AnalysisError('E_ANALYSIS_BAD_INPUT', "the 'haemodynamic' method needs coefficients: blood absorption at the sensor, control and blood-volume wavelengths (relative ones with fitScale), or 'fit' with a calibration window where the sensor is flat");
  }
  let coef = options.coefficients;
  const corrected = new Float64Array(n);
  const bv = new Float64Array(n);
  if (coef === 'fit') {
    // ln s = a·ln c + b·ln r + const: the control carries what sensor and control share
    // (motion, and blood at the control's wavelength); the red channel the rest of blood.
    const X = c ? [c.ln, r.ln] : [r.ln];
    const fit = robustRegression(s.ln, X, options.calibrationMask ? { mask: options.calibrationMask } : {});
    const kc = c ? fit.coefficients[0]! : 0;
    const kr = fit.coefficients[c ? 1 : 0]!;
    for (let i = 0; i < n; i++) {
      corrected[i] = s.ln[i]! - kr * r.ln[i]! - (c ? kc * c.ln[i]! : 0);
      bv[i] = r.ln[i]!; // proxy: ln of the red channel (∝ ΔV/V with an unknown factor)
    }
    const dff = dffOfLog(corrected);
    return finish({
      method, dffPercent: dff, z: zScore(dff), bloodVolumeChange: bv, regression: fit, bleaching,
      coefficients: { sensor: -kr, control: kc, bloodVolume: Number.NaN, fitted: true },
    });
  }
  let g = coef.dyeGain ?? 1;
  let scale: number | undefined;
  let scaleFit: RobustFit | undefined;
  if (options.fitScale) {
    if (!c) throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', 'fitScale needs the isosbestic control channel (405 nm): the scale is fitted from it; give the coefficients in absolute units instead');
    // ln c ≈ κ·ln r with κ = −λ·ρC / (g − λ·ρR)  ⇒  λ = κ·g / (κ·ρR − ρC)
    scaleFit = robustRegression(c.ln, [r.ln], options.calibrationMask ? { mask: options.calibrationMask } : {});
    const kappa = scaleFit.coefficients[0]!;
    scale = (kappa * g) / (kappa * coef.bloodVolume - coef.control);
    if (!(Number.isFinite(scale) && scale > 0)) {
      throw new AnalysisError('E_ANALYSIS_BAD_INPUT', `the control does not dim as blood volume rises (slope ${kappa.toFixed(4)} of ln control on ln blood volume); the absorption scale cannot be fitted: give absolute coefficients`);
    }
    coef = { sensor: coef.sensor * scale, control: coef.control * scale, bloodVolume: coef.bloodVolume * scale, dyeGain: g };
  }
  g = coef.dyeGain ?? 1;
  if (!c) {
    // ln r = (g − hR)·v, ln s = ns − hS·v (motion not separable without a control)
    const d = g - coef.bloodVolume;
    if (!(Math.abs(d) > 1e-9)) throw new AnalysisError('E_ANALYSIS_BAD_INPUT', 'dyeGain equals the blood-volume channel absorption: the red channel carries no blood-volume change; check the coefficients');
    for (let i = 0; i < n; i++) {
      bv[i] = r.ln[i]! / d;
      corrected[i] = s.ln[i]! + coef.sensor * bv[i]!;
    }
  } else {
    // ln c = m − hC·v, ln r = m + (g − hR)·v: solve the shared motion m and v per sample,
    // then ln s − m + hS·v is the sensor's own change.
    const d = g - coef.bloodVolume + coef.control;
    if (!(Math.abs(d) > 1e-9)) throw new AnalysisError('E_ANALYSIS_BAD_INPUT', 'the control and blood-volume channels respond identically to blood volume with these coefficients; cannot separate it from motion');
    for (let i = 0; i < n; i++) {
      const v = (r.ln[i]! - c.ln[i]!) / d;
      const m = c.ln[i]! + coef.control * v;
      bv[i] = v;
      corrected[i] = s.ln[i]! - m + coef.sensor * v;
    }
  }
  const dff = dffOfLog(corrected);
  const result: CorrectionResult = { method, dffPercent: dff, z: zScore(dff), bloodVolumeChange: bv, bleaching, coefficients: { ...coef, dyeGain: g, fitted: scale !== undefined } };
  if (scale !== undefined) result.scale = scale;
  if (scaleFit) result.regression = scaleFit;
  return finish(result);
}

function subtractAutofluorescence(input: CorrectionInput, af: Readonly<AutofluorescenceOffsets>): CorrectionInput {
  const minus = (name: keyof AutofluorescenceOffsets, x: Arr | undefined): Arr | undefined => {
    const a = af[name];
    if (a === undefined || x === undefined) return x;
    if (!Number.isFinite(a) || a < 0) throw new AnalysisError('E_ANALYSIS_BAD_INPUT', `autofluorescence.${name} must be a finite number >= 0 (the capped-fiber level in the channel's units), got ${a}`);
    return Float64Array.from(x, (v) => v - a);
  };
  const out: CorrectionInput = { tS: input.tS, sensor: minus('sensor', input.sensor)! };
  const control = minus('control', input.control);
  const bloodVolume = minus('bloodVolume', input.bloodVolume);
  if (control) out.control = control;
  if (bloodVolume) out.bloodVolume = bloodVolume;
  return out;
}
