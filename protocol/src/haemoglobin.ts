// Haemoglobin absorption: published molar extinction spectra of oxy- and
// deoxyhaemoglobin, and the blood absorption they imply at any LED wavelength.
// Physical facts, not wire format: they live here because both sides need
// them and `protocol/` is the one package host and simulator share. The
// simulated world absorbs light with them; host analysis corrects for them.
//
// Source of the numbers: S. Prahl, "Tabulated molar extinction coefficient for
// hemoglobin in water", Oregon Medical Laser Center, compiled from data of
// W. B. Gratzer (MRC Labs, London) and N. Kollias (Wellman Laboratories,
// Harvard Medical School). Every 2 nm; 350-700 nm taken here.
import { FiberrigError } from './errors.ts';

export const HB_SPECTRUM_SOURCE =
  'S. Prahl, tabulated molar extinction coefficient for hemoglobin in water (Gratzer; Kollias), Oregon Medical Laser Center';

/**
 * Molar extinction coefficients, decadic: [wavelengthNm, εHbO2, εHb] with ε in
 * cm⁻¹ per mol/L (absorbance A = ε · c[mol/L] · path[cm]). Uniform 2 nm grid.
 */
export const HB_EXTINCTION_TABLE: ReadonlyArray<readonly [number, number, number]> = [
  [350, 106576, 122092], [352, 105040, 125436], [354, 103696, 128776], [356, 101568, 132120],
  [358, 97828, 133632], [360, 94744, 134940], [362, 92248, 136044], [364, 89836, 136972],
  [366, 88484, 137900], [368, 87512, 138856], [370, 88176, 139968], [372, 91592, 141084],
  [374, 95140, 142196], [376, 98936, 143312], [378, 103432, 144424], [380, 109564, 145232],
  [382, 116968, 145232], [384, 125420, 148668], [386, 135132, 153908], [388, 148100, 159544],
  [390, 167748, 167780], [392, 189740, 180004], [394, 212060, 191540], [396, 231612, 202124],
  [398, 248404, 212712], [400, 266232, 223296], [402, 284224, 236188], [404, 308716, 253368],
  [406, 354208, 270548], [408, 422320, 287356], [410, 466840, 303956], [412, 500200, 321344],
  [414, 524280, 342596], [416, 521880, 363848], [418, 515520, 385680], [420, 480360, 407560],
  [422, 431880, 429880], [424, 376236, 461200], [426, 326032, 481840], [428, 283112, 500840],
  [430, 246072, 528600], [432, 214120, 552160], [434, 165332, 552160], [436, 132820, 547040],
  [438, 119140, 501560], [440, 102580, 413280], [442, 92780, 363240], [444, 81444, 282724],
  [446, 76324, 237224], [448, 67044, 173320], [450, 62816, 103292], [452, 58864, 62640],
  [454, 53552, 36170], [456, 49496, 30698.8], [458, 47496, 25886.4], [460, 44480, 23388.8],
  [462, 41320, 20891.2], [464, 39807.2, 19260.8], [466, 37073.2, 18142.4], [468, 34870.8, 17025.6],
  [470, 33209.2, 16156.4], [472, 31620, 15310], [474, 30113.6, 15048.4], [476, 28850.8, 14792.8],
  [478, 27718, 14657.2], [480, 26629.2, 14550], [482, 25701.6, 14881.2], [484, 25180.4, 15212.4],
  [486, 24669.6, 15543.6], [488, 24174.8, 15898], [490, 23684.4, 16684], [492, 23086.8, 17469.6],
  [494, 22457.6, 18255.6], [496, 21850.4, 19041.2], [498, 21260, 19891.2], [500, 20932.8, 20862],
  [502, 20596.4, 21832.8], [504, 20418, 22803.6], [506, 19946, 23774.4], [508, 19996, 24745.2],
  [510, 20035.2, 25773.6], [512, 20150.4, 26936.8], [514, 20429.2, 28100], [516, 21001.6, 29263.2],
  [518, 22509.6, 30426.4], [520, 24202.4, 31589.6], [522, 26450.4, 32851.2], [524, 29269.2, 34397.6],
  [526, 32496.4, 35944], [528, 35990, 37490], [530, 39956.8, 39036.4], [532, 43876, 40584],
  [534, 46924, 42088], [536, 49752, 43592], [538, 51712, 45092], [540, 53236, 46592],
  [542, 53292, 48148], [544, 52096, 49708], [546, 49868, 51268], [548, 46660, 52496],
  [550, 43016, 53412], [552, 39675.2, 54080], [554, 36815.2, 54520], [556, 34476.8, 54540],
  [558, 33456, 54164], [560, 32613.2, 53788], [562, 32620, 52276], [564, 33915.6, 50572],
  [566, 36495.2, 48828], [568, 40172, 46948], [570, 44496, 45072], [572, 49172, 43340],
  [574, 53308, 41716], [576, 55540, 40092], [578, 54728, 38467.6], [580, 50104, 37020],
  [582, 43304, 35676.4], [584, 34639.6, 34332.8], [586, 26600.4, 32851.6], [588, 19763.2, 31075.2],
  [590, 14400.8, 28324.4], [592, 10468.4, 25470], [594, 7678.8, 22574.8], [596, 5683.6, 19800],
  [598, 4504.4, 17058.4], [600, 3200, 14677.2], [602, 2664, 13622.4], [604, 2128, 12567.6],
  [606, 1789.2, 11513.2], [608, 1647.6, 10477.6], [610, 1506, 9443.6], [612, 1364.4, 8591.2],
  [614, 1222.8, 7762], [616, 1110, 7344.8], [618, 1026, 6927.2], [620, 942, 6509.6],
  [622, 858, 6193.2], [624, 774, 5906.8], [626, 707.6, 5620], [628, 658.8, 5366.8],
  [630, 610, 5148.8], [632, 561.2, 4930.8], [634, 512.4, 4730.8], [636, 478.8, 4602.4],
  [638, 460.4, 4473.6], [640, 442, 4345.2], [642, 423.6, 4216.8], [644, 405.2, 4088.4],
  [646, 390.4, 3965.08], [648, 379.2, 3857.6], [650, 368, 3750.12], [652, 356.8, 3642.64],
  [654, 345.6, 3535.16], [656, 335.2, 3427.68], [658, 325.6, 3320.2], [660, 319.6, 3226.56],
  [662, 314, 3140.28], [664, 308.4, 3053.96], [666, 302.8, 2967.68], [668, 298, 2881.4],
  [670, 294, 2795.12], [672, 290, 2708.84], [674, 285.6, 2627.64], [676, 282, 2554.4],
  [678, 279.2, 2481.16], [680, 277.6, 2407.92], [682, 276, 2334.68], [684, 274.4, 2261.48],
  [686, 272.8, 2188.24], [688, 274.4, 2115], [690, 276, 2051.96], [692, 277.6, 2000.48],
  [694, 279.2, 1949.04], [696, 282, 1897.56], [698, 286, 1846.08], [700, 290, 1794.28],
];

export const HB_TABLE_FIRST_NM = 350;
export const HB_TABLE_LAST_NM = 700;
const STEP_NM = 2;

/**
 * Haemoglobin oxygen saturation used when none is given: 0.6, the baseline
 * commonly assumed for mouse cortex in optical imaging (arterial, capillary and
 * venous blood mixed).
 */
export const DEFAULT_HB_SATURATION = 0.6;

/** Wavelength outside the table, or a saturation outside 0..1. */
export class HaemoglobinError extends FiberrigError {
  declare readonly code: 'E_HB_WAVELENGTH' | 'E_HB_SATURATION';

  constructor(code: 'E_HB_WAVELENGTH' | 'E_HB_SATURATION', message: string, hint: string) {
    super(code, message, hint);
    this.name = 'HaemoglobinError';
  }
}

export interface HbExtinction {
  /** ε of oxyhaemoglobin (HbO2), cm⁻¹/(mol/L). */
  oxyPerCmPerM: number;
  /** ε of deoxyhaemoglobin (Hb), cm⁻¹/(mol/L). */
  deoxyPerCmPerM: number;
}

/** ε of HbO2 and Hb at a wavelength, linearly interpolated between the 2 nm table points. */
export function hbExtinction(wavelengthNm: number): HbExtinction {
  if (!(wavelengthNm >= HB_TABLE_FIRST_NM && wavelengthNm <= HB_TABLE_LAST_NM)) {
    throw new HaemoglobinError(
      'E_HB_WAVELENGTH',
      `no haemoglobin extinction at ${wavelengthNm} nm`,
      `use a wavelength within ${HB_TABLE_FIRST_NM}-${HB_TABLE_LAST_NM} nm`,
    );
  }
  const x = (wavelengthNm - HB_TABLE_FIRST_NM) / STEP_NM;
  const i = Math.min(Math.floor(x), HB_EXTINCTION_TABLE.length - 2);
  const u = x - i;
  const a = HB_EXTINCTION_TABLE[i]!;
  const b = HB_EXTINCTION_TABLE[i + 1]!;
  return { oxyPerCmPerM: a[1] + u * (b[1] - a[1]), deoxyPerCmPerM: a[2] + u * (b[2] - a[2]) };
}

function checkSaturation(saturation: number): void {
  if (!(saturation >= 0 && saturation <= 1)) {
    throw new HaemoglobinError('E_HB_SATURATION', `oxygen saturation ${saturation} is not a fraction`, 'give a saturation within 0..1 (e.g. 0.6)');
  }
}

/** ε of blood haemoglobin at this oxygen saturation: S·ε(HbO2) + (1 − S)·ε(Hb), cm⁻¹/(mol/L). */
export function bloodExtinctionPerCmPerM(wavelengthNm: number, saturation = DEFAULT_HB_SATURATION): number {
  checkSaturation(saturation);
  const e = hbExtinction(wavelengthNm);
  return saturation * e.oxyPerCmPerM + (1 - saturation) * e.deoxyPerCmPerM;
}

/**
 * Blood absorption at a wavelength relative to a reference wavelength (ratio of
 * extinctions at the same saturation; dimensionless). A blood-volume change that
 * changes absorbance by x at referenceNm changes it by x · this at wavelengthNm.
 */
export function relativeBloodAbsorption(wavelengthNm: number, referenceNm: number, saturation = DEFAULT_HB_SATURATION): number {
  return bloodExtinctionPerCmPerM(wavelengthNm, saturation) / bloodExtinctionPerCmPerM(referenceNm, saturation);
}

/**
 * Isosbestic points of HbO2/Hb in the table (where the two extinctions cross),
 * nm, ascending; each located by linear interpolation between table points.
 */
export function hbIsosbesticPointsNm(): number[] {
  const out: number[] = [];
  for (let i = 1; i < HB_EXTINCTION_TABLE.length; i++) {
    const [x0, o0, d0] = HB_EXTINCTION_TABLE[i - 1]!;
    const [x1, o1, d1] = HB_EXTINCTION_TABLE[i]!;
    const g0 = o0 - d0;
    const g1 = o1 - d1;
    if (g0 === 0) out.push(x0);
    else if (g0 * g1 < 0) out.push(x0 + ((x1 - x0) * g0) / (g0 - g1));
  }
  return out;
}
