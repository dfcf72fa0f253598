// The default blood-absorption table of the haemodynamic correction: relative coefficients per LED
// wavelength from published haemoglobin extinction spectra (protocol/src/haemoglobin.ts; source and
// saturation there). Light crosses blood twice: on the way in at the LED's wavelength and on the way
// out at the fluorophore's emission, so a channel's coefficient is ε(LED) + ε(emission), relative to
// ε at 560 nm. Only ratios are meaningful: the scale (path length, haemoglobin concentration) is
// fitted from the isosbestic control (CorrectionOptions.fitScale), so this table is used only where
// the sensor has a control channel.
import { DEFAULT_HB_SATURATION, relativeBloodAbsorption } from '../../protocol/src/haemoglobin.ts';
import { BLOOD_VOLUME_BAND_NM, inBand } from '../pipeline/wavelength-roles.ts';
import type { AbsorptionTable } from './correct.ts';

export interface SpectralAbsorptionOptions {
  /** emission peak of the sensor and its control, nm (default 515: cpGFP sensors such as GRAB-NE, GCaMP, dLight) */
  sensorEmissionNm?: number;
  /** emission peak of the blood-volume dye, nm (default 580: rhodamine-dextran-like red dyes) */
  bloodVolumeEmissionNm?: number;
  /** haemoglobin oxygen saturation, 0..1 (default protocol DEFAULT_HB_SATURATION) */
  saturation?: number;
}

export const DEFAULT_SENSOR_EMISSION_NM = 515;
export const DEFAULT_BLOOD_VOLUME_EMISSION_NM = 580;
const REFERENCE_NM = 560;

/** One row per distinct LED wavelength (sorted): ε(LED) + ε(emission of that LED's role), relative to ε(560 nm). */
export function spectralAbsorptionTable(ledWavelengthsNm: readonly number[], options: SpectralAbsorptionOptions = {}): AbsorptionTable {
  const sat = options.saturation ?? DEFAULT_HB_SATURATION;
  const green = options.sensorEmissionNm ?? DEFAULT_SENSOR_EMISSION_NM;
  const red = options.bloodVolumeEmissionNm ?? DEFAULT_BLOOD_VOLUME_EMISSION_NM;
  const rel = (nm: number): number => relativeBloodAbsorption(nm, REFERENCE_NM, sat);
  return [...new Set(ledWavelengthsNm)].sort((a, b) => a - b).map((nm) => [nm, rel(nm) + rel(inBand(nm, BLOOD_VOLUME_BAND_NM) ? red : green)] as const);
}
