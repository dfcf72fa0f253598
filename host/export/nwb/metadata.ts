// The machine-readable account of an NWB export, written as JSON into
// /general/data_collection: the target schema versions, every series' unit,
// conversion, offset and rate, each demodulated channel's filter group delay
// and whether times were compensated for it, and the gap policy. Nothing a
// reader needs to interpret the numbers is left to guessing.

/** What the file says about one series (its path is the key in `series`). */
export interface SeriesMetadata {
  neurodataType: string;
  unit: string;
  /** value in `unit` = stored × conversion + offset */
  conversion: number;
  offset: number;
  /** Regular series: samples per second and the time of sample 0 (s); irregular: null, with timestamps. */
  rateHz: number | null;
  startingTimeS: number | null;
  continuity: 'continuous' | 'instantaneous' | 'step';
  /** Aux (ElectricalSeries): where the volts are measured — 'electrode', or 'adc-input' for a device before protocol 1.1. */
  voltsAt?: 'electrode' | 'adc-input';
  /** What a reader must know about the values (e.g. that an amplifier gain is not removed, or the stored unit). */
  note?: string;
  /**
   * Demodulated series: one entry per column, in column order. `timeOffsetS`: the column's samples were
   * measured this long after the series' times (non-zero only when channels differ in delay: time division).
   */
  columns?: Array<{ name: string; groupDelayS: number; timeOffsetS: number; wavelengthNm: number | null; detector: number | null }>;
}

export interface ExportMetadataInput {
  targets: Readonly<Record<string, string>>;
  delayCompensation: boolean;
  series: Record<string, SeriesMetadata>;
  gaps: number;
  qualitySpans: number;
  /** The recording was aligned with its group: what the group axis is (host/export/group-axis.ts). */
  groupTime?: Record<string, unknown>;
  recordedWith: string;
  exportedWith: string;
  config: unknown;
  processing: unknown;
  device: unknown;
}

export const METADATA_SCHEMA = 'fiberrig-nwb-export/1';

/** The JSON document for /general/data_collection. */
export function exportMetadata(m: ExportMetadataInput): string {
  return JSON.stringify({
    schema: METADATA_SCHEMA,
    targets: { nwb: m.targets.core, namespaces: m.targets },
    time: {
      clock: 'device sample counter: t = session sample index / rate, 0 at the first sample of the session',
      delayCompensation: m.delayCompensation,
      delayNote: m.delayCompensation
        ? 'demodulated times are when the light was measured: the filter output time minus the column\'s groupDelayS (plus the column\'s timeOffsetS when columns differ)'
        : 'demodulated times are raw filter-output times: subtract the column\'s groupDelayS to get when the light was measured',
      ...(m.groupTime ? { groupTime: m.groupTime } : {}),
    },
    gapPolicy: {
      policy: 'nan',
      description: 'samples that never arrived are NaN in every regularly sampled series (never zero-filled, never closed up); each gap is a row of /intervals/invalid_times',
      invalidTimes: m.gaps > 0 ? '/intervals/invalid_times' : null,
      gaps: m.gaps,
      quality: m.qualitySpans > 0 ? '/intervals/quality' : null,
    },
    series: m.series,
    recordedWith: m.recordedWith,
    exportedWith: m.exportedWith,
    device: m.device,
    config: m.config,
    processing: m.processing,
  });
}
