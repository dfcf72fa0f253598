// What alignment needs of a recording, in one raw-data pass over its raw log
// (no demodulation): the configuration (sync_out, digital inputs), the rising
// edges on the sync input line, the host clock fit of session index 0, and the
// number of acquisition segments.
import { basename } from 'node:path';
import { Edge } from '../../protocol/index.ts';
import { replayRecording } from '../record/replay.ts';
import type { AlignRecording } from './fit.ts';
import { AlignError } from './errors.ts';

export interface ReadAlignOptions {
  /** The digital input line the sync line is wired to on the receivers (default: a receiver's only digital input). */
  syncLine?: number;
  /** The name the recording goes by (default: its directory name). */
  name?: string;
}

export async function readAlignRecording(path: string, options: ReadAlignOptions = {}): Promise<AlignRecording & { dir: string }> {
  let line: number | null = null;
  let ticksPerSample = 1;
  const rising: number[] = [];
  let dir = path;
  let rateHz = 0;
  let syncOut: AlignRecording['syncOut'] = null;
  let startHostUs = 0;
  const summary = await replayRecording(path, [{
    begin(ctx) {
      dir = ctx.dir;
      rateHz = ctx.timebase.rateHz;
      ticksPerSample = (ctx.timebase.timerHz || rateHz) / rateHz;
      startHostUs = ctx.startHostTimeUs;
      const s = ctx.config.syncOut;
      if (s?.enabled) syncOut = { periodSamples: s.periodSamples ?? 0, pulseSamples: s.pulseSamples ?? 0 };
      const inputs = ctx.config.digitalInputIds ?? [];
      if (options.syncLine !== undefined) line = inputs.includes(options.syncLine) ? options.syncLine : null;
      else if (inputs.length === 1) line = inputs[0]!;
      else if (inputs.length > 1 && !syncOut) {
        throw new AlignError('E_ALIGN_SYNC_LINE', `${options.name ?? basename(ctx.dir)}: captures digital inputs ${inputs.join(', ')}: which one is the sync line?`, 'name it with --sync-line LINE');
      }
    },
    digital(e) {
      if (line !== null && e.line === line && e.edge === Edge.EDGE_RISING) rising.push(e.sessionIndex + e.subsampleTicks / ticksPerSample);
    },
  }], { demod: false });
  if (rateHz === 0) throw new AlignError('E_ALIGN_EMPTY', `${path}: the recording holds no acquisition`, 'check it with fiberrig inspect');
  return {
    dir, name: options.name ?? basename(dir), sampleRateHz: rateHz, syncOut, risingEdges: rising, syncLine: line,
    hostClock: summary.clock ? { offsetUs: summary.clock.offsetUs, driftPpm: summary.clock.driftPpm } : startHostUs > 0 ? { offsetUs: startHostUs, driftPpm: 0 } : null,
    segments: summary.segments + 1, // the summary holds the last segment number (0: one segment)
  };
}
