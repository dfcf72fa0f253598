// Test helper: the EEG and EMG of a fiberrig recording as the host replays it (demodulated aux
// stream, electrode volts from each channel's voltsPerCode), for scoring.
import { replayRecording } from '../../../../host/record/replay.ts';

export async function recordedEegEmg(dir: string): Promise<{ eegV: Float64Array; emgV: Float64Array; rateHz: number; startS: number }> {
  const parts = new Map<string, Array<{ first: number; v: Float64Array }>>();
  let rateHz = 0;
  await replayRecording(dir, [{
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
  return { eegV: eeg.v.subarray(0, n), emgV: emg.v.subarray(0, n), rateHz, startS: eeg.first / rateHz };
}
