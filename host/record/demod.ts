// Offline demodulation: replays a recording's raw log through the same
// frame decoder, assembler and demodulator as the live Rig and writes the
// derived files (signals.csv, aux.csv, events.csv, gaps.csv) with the same
// writer. With the recording's own settings the files equal the live ones.
import { compensatesDelay, type TimeOptions } from '../pipeline/time.ts';
import type { DemodOptions } from '../pipeline/demodulate.ts';
import { type DerivedOutput, DerivedWriter } from './derived.ts';
import { type ReplayContext, type ReplaySummary, replayRecording } from './replay.ts';

export interface DemodResult {
  outDir: string;
  files: string[];
  signalRows: number;
  outputRateHz: number;
  settings: DemodOptions;
  /** Signal times compensated for the filters' delay (see TimeOptions). */
  delayCompensation: boolean;
  /** Per demodulated channel (signals, then aux): seconds its output lags what it measured (host/dsp/delay.ts). */
  groupDelays: Array<{ name: string; stream: 'signals' | 'aux'; groupDelayS: number }>;
  summary: ReplaySummary;
}

export async function demodRecording(
  path: string, outDir: string, overrides: DemodOptions = {}, onProgress?: (position: number, total: number) => void, timeOptions: TimeOptions = {},
  /** Other derived files to write from the same blocks (see DerivedOutput), made once the recording's streams are known. */
  outputs: (ctx: ReplayContext) => DerivedOutput[] = () => [],
): Promise<DemodResult> {
  let writer: DerivedWriter | undefined;
  let settings: DemodOptions = {};
  let groupDelays: DemodResult['groupDelays'] = [];
  const summary = await replayRecording(path, [{
    begin: async (ctx) => {
      settings = ctx.demodOptions ?? {};
      groupDelays = [
        ...ctx.signalChannels.map((c) => ({ name: c.name, stream: 'signals' as const, groupDelayS: c.groupDelayS })),
        ...ctx.auxChannels.map((c) => ({ name: c.name, stream: 'aux' as const, groupDelayS: c.groupDelayS })),
      ];
      writer = await DerivedWriter.create(outDir, ctx.timebase, ctx.cutoffS, timeOptions, outputs(ctx));
    },
    item: (item) => writer!.item(item),
    signals: (block) => writer!.signals(block),
    digital: (e) => writer!.digital(e),
    led: (e) => writer!.led(e),
    end: async () => { await writer?.close(); },
  }], { demod: overrides, ...(onProgress ? { onProgress } : {}) });
  return {
    outDir, files: writer?.fileNames ?? [], signalRows: writer?.signalRows ?? 0, outputRateHz: writer?.outputRateHz ?? 0, settings,
    delayCompensation: compensatesDelay(timeOptions), groupDelays, summary,
  };
}
