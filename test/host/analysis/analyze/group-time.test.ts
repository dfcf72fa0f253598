// analysis.json and events.csv of a recording aligned with its group (alignment.json): the
// micro-arousals, NREM bouts, NE peaks and the trace start gain group-axis times (the alignment's
// map of the same session times); without an alignment nothing changes.
import assert from 'node:assert/strict';
import { toDriverS } from '../../../../host/align/index.ts';
import type { AlignmentFile } from '../../../../host/align/index.ts';
import { analysisJson } from '../../../../host/analysis/analyze/summary.ts';
import { eventsCsv } from '../../../../host/analysis/analyze/tables.ts';
import type { RecordingAnalysis } from '../../../../host/analysis/analyze/types.ts';

// a receiver whose clock runs 100 ppm fast and started 2.5 s after the driver, with a knot bending the line
const ALIGNMENT = {
  format: 'fiberrig-alignment', formatVersion: 1, timeAxis: 'driver sample index / 1000 Hz', name: 'm1', role: 'receiver',
  group: { driver: 'drv', driverRateHz: 1000, periodSamples: 500, recordings: ['drv', 'm1'] },
  offsetS: 2.5, scale: 1 / 1.0001, residualRmsSamples: 0, residualMaxSamples: 0, edges: 3,
  knots: [[0, 2.5], [100, 2.5 + 100 / 1.0001 + 0.002], [200, 2.5 + 200 / 1.0001]],
  alignedWith: 'test', alignedAt: '2026-01-01T00:00:00.000Z',
} as unknown as AlignmentFile;

function analysis(groupTime: AlignmentFile | null): RecordingAnalysis {
  return {
    recording: 'm1', inputSource: 'raw log', fiberrigVersion: 'test', settings: {} as RecordingAnalysis['settings'], durationS: 200, analysisRateHz: 10,
    traces: { t0S: 0.05, rateHz: 10, dffPct: {}, bloodVolumePct: null }, correction: null,
    sleep: { source: 'scored', epochS: 4, startS: 0, states: ['nrem', 'wake'], confidence: new Float64Array([1, 1]), microArousals: [{ startS: 50, endS: 57, durationS: 7, emgRatio: 3 }], features: null },
    oscillation: {
      settings: {}, summary: {}, bouts: [{ startS: 10, endS: 150, durationS: 140 }], nePsd: null, bloodVolumePsd: null, psdByState: {},
      extrema: [{ kind: 'peak', tS: 120, valuePct: 4 }], locked: null,
    } as unknown as RecordingAnalysis['oscillation'],
    unavailable: [], groupTime,
  };
}

describe('fiberrig analyze: group-axis times of an aligned recording', () => {
  it('analysis.json: micro-arousals, bouts, the sleep grid and the traces gain groupStartS/groupEndS/groupT0S equal to the alignment\'s map (within 1e-9 s)', () => {
    const json = analysisJson(analysis(ALIGNMENT), []) as {
      groupTime: { driver: string }; traces: { groupT0S: number }; sleep: { groupStartS: number };
      microArousals: Array<{ startS: number; groupStartS: number; groupEndS: number }>; oscillation: { bouts: Array<{ startS: number; endS: number; groupStartS: number; groupEndS: number }> };
    };
    const map = (t: number): number => toDriverS(ALIGNMENT, t);
    assert.equal(json.groupTime.driver, 'drv');
    assert.ok(Math.abs(json.traces.groupT0S - map(0.05)) < 1e-9);
    assert.ok(Math.abs(json.sleep.groupStartS - 2.5) < 1e-9);
    const ma = json.microArousals[0]!;
    assert.equal(ma.startS, 50);
    assert.ok(Math.abs(ma.groupStartS - map(50)) < 1e-9 && Math.abs(ma.groupEndS - map(57)) < 1e-9);
    // the knot at 100 s bends the map: a bout across it is not the fitted line's
    const bout = json.oscillation.bouts[0]!;
    assert.ok(Math.abs(bout.groupStartS - map(10)) < 1e-9 && Math.abs(bout.groupEndS - map(150)) < 1e-9);
    assert.ok(Math.abs(bout.groupEndS - (2.5 + 150 / 1.0001)) > 5e-4, 'the map goes through the knots, not along the line');
  });

  it('events.csv gains group_start_s, group_end_s; without alignment.json neither file changes', () => {
    const lines = eventsCsv(analysis(ALIGNMENT)).trim().split('\n');
    assert.deepEqual(lines[0]!.split(','), ['kind', 'start_s', 'end_s', 'duration_s', 'value_pct', 'group_start_s', 'group_end_s']);
    const peak = lines.find((l) => l.startsWith('ne-peak'))!.split(',');
    assert.ok(Math.abs(Number(peak[5]) - toDriverS(ALIGNMENT, 120)) < 1e-6);
    assert.equal(eventsCsv(analysis(null)).split('\n')[0], 'kind,start_s,end_s,duration_s,value_pct');
    const plain = analysisJson(analysis(null), []) as Record<string, unknown> & { microArousals: Array<Record<string, unknown>> };
    assert.equal('groupTime' in plain, false);
    assert.deepEqual(Object.keys(plain.microArousals[0]!), ['startS', 'endS', 'durationS', 'emgRatio']);
  });
});
