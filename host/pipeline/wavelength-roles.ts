// What an LED's wavelength makes a demodulated channel: the isosbestic control,
// a green sensor's excitation, or the blood-volume dye's. One set of bands for
// the exports (pairing, NWB table roles) and the analysis (which channel corrects which).

/** Wavelength bands (nm, inclusive). */
export const CONTROL_BAND_NM: readonly [number, number] = [395, 425]; // isosbestic control (≈405–415 nm)
export const SENSOR_BAND_NM: readonly [number, number] = [440, 500]; // green sensors (465/470 nm: GRAB-NE, GCaMP)
export const BLOOD_VOLUME_BAND_NM: readonly [number, number] = [540, 600]; // red intravascular dye (560 nm)

export function inBand(nm: number | undefined, band: readonly [number, number]): boolean {
  return nm !== undefined && nm >= band[0] && nm <= band[1];
}

/** Isosbestic control excitation. */
export function isControlWavelength(nm: number | undefined): boolean {
  return inBand(nm, CONTROL_BAND_NM);
}

/** Green sensor excitation. */
export function isGreenWavelength(nm: number | undefined): boolean {
  return inBand(nm, SENSOR_BAND_NM);
}
