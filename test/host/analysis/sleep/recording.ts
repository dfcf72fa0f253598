// Test helper: the EEG and EMG of a fiberrig recording as the host replays it (the library's
// readAuxVolts: demodulated aux stream, electrode volts, gaps NaN), for scoring; and the world time of
// session time 0, from the sleep scenario's sync pulses (line 0 rises at world t = 60 s, 120 s, ...):
// the simulated device runs before the session starts, so session time lags world time by a
// run-dependent fraction of a second.
import { Edge } from '../../../../protocol/index.ts';
import { readAuxVolts } from '../../../../host/analysis/input-read.ts';
import { SLEEP_SYNC_PERIOD_S } from '../../../../firmware-sim/world/scenarios/sleep.ts';

export interface RecordedEegEmg {
  eegV: Float64Array;
  emgV: Float64Array;
  rateHz: number;
  /** World time of the first aux sample, s (session time + the sync-derived offset). */
  startS: number;
  /** World time minus session time, s. */
  worldOffsetS: number;
}

export async function recordedEegEmg(dir: string): Promise<RecordedEegEmg> {
  let sampleRateHz = 0;
  const syncS: number[] = [];
  const aux = await readAuxVolts(dir, ['EEG', 'EMG'], [{
    begin: (ctx) => { sampleRateHz = ctx.timebase.rateHz; },
    digital: (e) => { if (e.line === 0 && e.edge === Edge.EDGE_RISING) syncS.push(e.sessionIndex / sampleRateHz); },
  }]);
  if (syncS.length === 0) throw new Error('no sync pulse on line 0: record at least 60 s of sim://sleep');
  const offsets = syncS.map((t) => Math.ceil(t / SLEEP_SYNC_PERIOD_S - 1e-9) * SLEEP_SYNC_PERIOD_S - t).sort((a, b) => a - b);
  const worldOffsetS = offsets[Math.floor(offsets.length / 2)]!;
  return { eegV: aux.data.EEG!, emgV: aux.data.EMG!, rateHz: aux.rateHz, startS: aux.startS + worldOffsetS, worldOffsetS };
}
