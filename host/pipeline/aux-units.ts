// Volts per ADC code of an aux (EEG/EMG) input, from the DeviceInfo it was recorded with. The one place
// the host turns aux codes into volts: the demodulator's aux channels, the live view and every export
// take their scale from here.
//
// A device speaking protocol 1.1 or later reports AuxInputInfo.electrode_volts_per_code: volts at the
// electrode (the amplifier's input) per code, its front end's gain folded in. A recording from an older
// device has no such field (0 on the wire): the electrode scale is then unknown. The fallback is the
// ADC's own scale (full_scale_v / 2^adc_bits, volts at the ADC input, the amplifier's gain NOT removed),
// labelled as such wherever it is written, with a warning — never presented as electrode volts.
import type { DeviceInfo } from '../../protocol/index.ts';
import { PipelineError } from './errors.ts';

/** Where the volts of an aux channel are measured. */
export type AuxVoltsAt = 'electrode' | 'adc-input';

export interface AuxScale {
  /** Volts per ADC code. */
  voltsPerCode: number;
  /** 'electrode': reported by the device; 'adc-input': the fallback for devices before protocol 1.1. */
  voltsAt: AuxVoltsAt;
  /** Set for the fallback: what a person must know (the amplifier's gain is not removed). */
  warning?: string;
}

/** A short unit label for files and plots: "V" at the electrode, "V at ADC input" for the fallback. */
export function auxUnitLabel(scale: Pick<AuxScale, 'voltsAt'>): string {
  return scale.voltsAt === 'electrode' ? 'V' : 'V at ADC input';
}

/**
 * Volts per code for aux input `id` of `info`: electrode volts when the device reported them, else the ADC
 * input's volts (with a warning). Throws PipelineError when the input is not on the device or its ADC is
 * not described (no scale can be stated at all).
 */
export function auxScale(info: Pick<DeviceInfo, 'auxInputs'>, id: number): AuxScale {
  const a = info.auxInputs.find((x) => x.id === id);
  if (!a) throw new PipelineError('E_PIPELINE_CONFIG', `aux input ${id} is not on this device`, 'use an aux id that `fiberrig info --device URL` lists');
  const evpc = a.electrodeVoltsPerCode ?? 0;
  if (Number.isFinite(evpc) && evpc > 0) return { voltsPerCode: evpc, voltsAt: 'electrode' };
  if (!(a.adcBits > 0 && a.fullScaleV > 0)) {
    throw new PipelineError(
      'E_PIPELINE_AUX_SCALE', `aux input ${id} (${a.label || 'unlabelled'}) reports neither electrode volts per code nor its ADC (adc_bits ${a.adcBits}, full_scale_v ${a.fullScaleV})`,
      'update the device firmware (protocol 1.1 reports electrode_volts_per_code)',
    );
  }
  return {
    voltsPerCode: a.fullScaleV / 2 ** a.adcBits,
    voltsAt: 'adc-input',
    warning: `aux input ${id} (${a.label || 'unlabelled'}): the device did not report its amplifier gain (protocol before 1.1), `
      + 'so its values are volts at the ADC input, not at the electrode: divide by your amplifier\'s gain',
  };
}
