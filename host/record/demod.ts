// Offline demodulation: replays a recording's raw log through the same
// frame decoder, assembler and demodulator as the live Rig and writes the
// derived files (signals.csv, aux.csv, events.csv, gaps.csv) with the same
// writer. With the recording's own settings the files equal the live ones.
import type { DemodOptions } from '../pipeline/demodulate.ts';
import { DerivedWriter } from './derived.ts';
import { type ReplaySummary, replayRecording } from './replay.ts';

export interface DemodResult {
  outDir: string;
  files: string[];
  signalRows: number;
  outputRateHz: number;
  settings: DemodOptions;
  summary: ReplaySummary;
}

export async function demodRecording(path: string, outDir: string, overrides: DemodOptions = {}, onProgress?: (position: number, total: number) => void): Promise<DemodResult> {
  let writer: DerivedWriter | undefined;
  let settings: DemodOptions = {};
  const summary = await replayRecording(path, [{
    begin: async (ctx) => {
      settings = ctx.demodOptions ?? {};
      writer = await DerivedWriter.create(outDir, ctx.timebase, ctx.cutoffS);
    },
    item: (item) => writer!.item(item),
    signals: (block) => writer!.signals(block),
    digital: (e) => writer!.digital(e),
    led: (e) => writer!.led(e),
    end: async () => { await writer?.close(); },
  }], { demod: overrides, ...(onProgress ? { onProgress } : {}) });
  return { outDir, files: writer?.files.files ?? [], signalRows: writer?.signalRows ?? 0, outputRateHz: writer?.outputRateHz ?? 0, settings, summary };
}
