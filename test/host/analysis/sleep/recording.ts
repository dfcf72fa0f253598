// Test helper: the EEG and EMG of a fiberrig recording as the host replays it (demodulated aux
// stream, electrode volts from each channel's voltsPerCode), for scoring; and the world time of
// session time 0, from the sleep scenario's sync pulses (line 0 rises at world t = 60 s, 120 s, ...):
// the simulated device runs before the session starts, so session time lags world time by a
// run-dependent fraction of a second.
import { Edge } from '../../../../protocol/index.ts';
import { replayRecording } from '../../../../host/record/replay.ts';
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
  const parts = new Map<string, Array<{ first: number; v: Float64Array }>>();
  let rateHz = 0;
  let sampleRateHz = 0;
  const syncS: number[] = [];
  await replayRecording(dir, [{
    begin: (ctx) => { sampleRateHz = ctx.timebase.rateHz; },
    digital: (e) => { if (e.line === 0 && e.edge === Edge.EDGE_RISING) syncS.push(e.sessionIndex / sampleRateHz); },
    signals: (b) => {
      if (b.stream !== 'aux') return;
      rateHz = b.rateHz;
      b.channels.forEach((c, i) => {
        const scale = c.voltsPerCode ?? Number.NaN;
        const list = parts.get(c.name) ?? [];
        list.push({ first: b.firstIndex, v: b.values[i]!.map((x) => x * scale) });
        parts.set(c.name, list);
      });
    },
  }]);
  const join = (name: string): { first: number; v: Float64Array } => {
    const list = parts.get(name);
    if (!list?.length) throw new Error(`recording has no aux channel ${name} (has ${[...parts.keys()].join(', ')})`);
    const first = list[0]!.first;
    const last = list[list.length - 1]!;
    const v = new Float64Array(last.first + last.v.length - first).fill(Number.NaN);
    for (const p of list) v.set(p.v, p.first - first);
    return { first, v };
  };
  const eeg = join('EEG');
  const emg = join('EMG');
  if (eeg.first !== emg.first) throw new Error('EEG and EMG start at different samples');
  const n = Math.min(eeg.v.length, emg.v.length);
  if (syncS.length === 0) throw new Error('no sync pulse on line 0: record at least 60 s of sim://sleep');
  const offsets = syncS.map((t) => Math.ceil(t / SLEEP_SYNC_PERIOD_S - 1e-9) * SLEEP_SYNC_PERIOD_S - t).sort((a, b) => a - b);
  const worldOffsetS = offsets[Math.floor(offsets.length / 2)]!;
  return { eegV: eeg.v.subarray(0, n), emgV: emg.v.subarray(0, n), rateHz, startS: eeg.first / rateHz + worldOffsetS, worldOffsetS };
}
