// The streaming reader behind `fiberrig analyze` (contract: input.ts): the recording's
// analysis-input file when it matches (input-file.ts), else one replayRecording pass through
// AnalysisInputReducer (input-reduce.ts). Memory holds the outputs and a few seconds of aux
// history; nothing grows with the raw length. See README.md, "Streaming reader".
import type { SignalChannel } from '../pipeline/demodulate.ts';
import { signalTimeS } from '../pipeline/time.ts';
import { type ReplayOptions, type ReplaySink, replayRecording } from '../record/replay.ts';
import { AnalysisError } from './errors.ts';
import type { AnalysisInput, AnalysisInputOptions } from './input.ts';
import { readAnalysisInputFile } from './input-file.ts';
import { AnalysisInputReducer, analysisStreamsOf } from './input-reduce.ts';
import { AuxVolts } from './input-stream.ts';

export { ANALYSIS_INPUT_DEFAULTS, AnalysisInputReducer, analysisInputSettings, type AnalysisInputSettings, type AnalysisStreams } from './input-reduce.ts';
export { SleepFeatureStream } from './input-stream.ts';

export interface ReadAnalysisInputOptions extends Pick<ReplayOptions, 'demod' | 'cutoffS'> {
  /**
   * Use the reduction the acquisition (or `fiberrig demod`) wrote beside the raw log when it was
   * made with these settings (input-file.ts); default true. False always replays the raw log.
   */
  derived?: boolean;
}

/**
 * The analysis input of the recording at `path` (input.ts): photometry block means at
 * `analysisRateHz`, and from the EEG/EMG aux channels the per-epoch sleep features, the EMG
 * envelope and a band-power series. Read from the recording's analysis-input file when it matches
 * the settings and the recording's own processing (no demod or cutoff override), else reduced
 * from one replay of the raw log. Throws AnalysisError E_ANALYSIS_NO_CHANNEL when the recording
 * has no photometry channel or lacks a named aux channel, E_ANALYSIS_BAD_INPUT for a bad option;
 * everything else the recording lacks is listed in `missing`.
 */
export async function readAnalysisInput(path: string, options: AnalysisInputOptions = {}, replay: ReadAnalysisInputOptions = {}): Promise<AnalysisInput> {
  const reducer = new AnalysisInputReducer(path, options);
  const { derived = true, ...replayOptions } = replay;
  if (derived && replayOptions.demod === undefined && replayOptions.cutoffS === undefined) {
    const stored = await readAnalysisInputFile(path, reducer.settings);
    if (stored) return stored;
  }
  const sink: ReplaySink = {
    begin: (ctx) => reducer.begin(analysisStreamsOf(ctx)),
    signals: (b) => reducer.signals(b),
  };
  await replayRecording(path, [sink], replayOptions);
  return reducer.finish();
}

/** Aux channels as whole arrays, in volts (see readAuxVolts). */
export interface AuxVoltsRecording {
  rateHz: number;
  /** aux output index of sample 0 */
  firstIndex: number;
  /** session time of sample 0 (the channels' group delay removed), s */
  startS: number;
  channels: readonly SignalChannel[];
  /** by channel name: codes × voltsPerCode, NaN in gaps, all of one length */
  data: Record<string, Float64Array>;
}

/**
 * The named aux channels of a recording as whole arrays of volts (each channel's voltsPerCode),
 * from the first aux sample, gaps NaN: the same samples readAnalysisInput reduces while streaming.
 * Memory grows with the recording (8 bytes per sample per channel): for short recordings and
 * tests. `sinks` ride along in the same replay.
 */
export async function readAuxVolts(path: string, names: readonly string[], sinks: ReplaySink[] = []): Promise<AuxVoltsRecording> {
  const parts = names.map(() => [] as Float64Array[]);
  let rateHz = 0;
  let available: readonly SignalChannel[] = [];
  const aux = new AuxVolts(names, (v, n) => {
    v.forEach((x, k) => { parts[k]!.push(x.slice(0, n)); });
  });
  await replayRecording(path, [{
    begin: (ctx) => {
      rateHz = ctx.auxOutputRateHz;
      available = ctx.auxChannels;
      const absent = names.filter((n) => !available.some((c) => c.name === n));
      if (absent.length > 0) {
        throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${path} has no aux channel ${absent.join(', ')} (it has ${available.length ? available.map((c) => c.name).join(', ') : 'none'})`);
      }
    },
    signals: (b) => { if (b.stream === 'aux') aux.add(b); },
  }, ...sinks]);
  if (aux.first < 0) throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${path} has aux channels configured but no aux samples`);
  const data: Record<string, Float64Array> = {};
  names.forEach((name, k) => {
    const total = parts[k]!.reduce((s, p) => s + p.length, 0);
    const out = new Float64Array(total);
    let at = 0;
    for (const p of parts[k]!) { out.set(p, at); at += p.length; }
    data[name] = out;
  });
  const channels = names.map((n) => aux.channels.find((c) => c.name === n)!);
  return { rateHz, firstIndex: aux.first, startS: signalTimeS(aux.first, rateHz, channels[0]!, {}), channels, data };
}
