// GuPPy export: the CSV layout GuPPy's CSV import reads, one session folder per
// gap-free span (default `--gaps segments`), or one folder with the NaN rows
// left out (`--gaps omit`). Never a NaN cell: GuPPy drops NaN cells column by
// column, which misaligns data against timestamps.
//
//   <out>/export.json                      metadata (README: "Metadata")
//   <out>/quality.csv                      spans flagged LEDs-dark (only when there are some)
//   <out>/segment_001/det0_470nm.csv       timestamps,data,sampling_rate (rate on every row)
//   <out>/segment_001/DI0.csv              timestamps of rising edges within the segment
//
// A recording aligned with its group (alignment.json): every timestamps column is on the group's
// axis and sampling_rate is the rate on that axis (group-axis.ts); export.json says so (groupTime).
//
// Every channel file of a segment has the same rows (same timestamps), so a
// control/signal pair lines up whichever channel GuPPy times it by.
import { join } from 'node:path';
import { Edge } from '../../protocol/index.ts';
import type { SignalBlock } from '../pipeline/demodulate.ts';
import type { TimedDigitalEvent } from '../rig/assembler.ts';
import { digitalEventTimeS, type Timebase } from '../record/derived.ts';
import type { ReplayContext, ReplaySink, ReplaySummary } from '../record/replay.ts';
import type { SessionQualitySpan } from '../record/session.ts';
import { formatValue, type TextFileWriter } from '../record/text-file.ts';
import { formatSignalTime, signalTimeS } from '../pipeline/time.ts';
import { fileSafeName, type GapPolicy } from './common.ts';
import { GroupAxis } from './group-axis.ts';
import {
  channelUnits, type CsvExportOptions, csvGapPolicy, DEFAULT_MIN_SEGMENT_S, explainOmitted, minSegmentRows, type ExportOutput, exportMetadata, QualityFile,
  requireSignals, segmentAt, SegmentFolders, writeMetadata,
} from './csv-common.ts';

/** Events kept in memory until the segments are known; a recording's TTL edges are few. */
interface RisingEdge {
  line: number;
  t: number;
}

export class GuppySink implements ReplaySink {
  readonly output: ExportOutput = { files: [], rows: 0 };
  /** Files another sink of the same pass writes into this export (aux/<label>.csv, aux/aux_units.json): listed in export.json. */
  alsoWritten: ExportOutput | undefined;
  private tb: Timebase | undefined;
  private rate = '';
  private names: string[] = [];
  private writers: TextFileWriter[] = [];
  /** Per channel, rows of the open segment not yet handed to its writer. */
  private pending: string[] = [];
  private folders: SegmentFolders | undefined;
  private readonly edges: RisingEdge[] = [];
  private readonly qualityFile: QualityFile;
  private readonly policy: GapPolicy;
  private axis: GroupAxis | null = null;

  constructor(private readonly out: string, private readonly options: CsvExportOptions = {}) {
    this.policy = csvGapPolicy('guppy', options.gaps);
    this.qualityFile = new QualityFile(join(out, 'quality.csv'), this.output);
  }


  begin(ctx: ReplayContext): void {
    requireSignals(ctx);
    this.tb = ctx.timebase;
    this.axis = GroupAxis.of(ctx.dir);
    this.qualityFile.onAxis(this.axis);
    this.rate = String(this.axis ? this.axis.rateHz(ctx.signalRateHz) : ctx.signalRateHz);
    this.names = ctx.signalChannels.map((c) => `${fileSafeName(c)}.csv`);
    this.folders = new SegmentFolders(this.out, this.policy, minSegmentRows(this.options, ctx.signalRateHz), this.output, this.options, (dir) => {
      this.writers = this.names.map((n) => dir.open(n, 'timestamps,data,sampling_rate'));
    }, () => this.flush());
  }

  signals(block: SignalBlock): void {
    if (block.stream !== 'signals') return;
    const seg = this.folders!.segmenter;
    if (this.pending.length !== block.values.length) this.pending = block.values.map(() => '');
    for (let k = 0; k < block.count; k++) {
      if (!seg.keep(block, k)) continue;
      // each channel file has its own times: under time division each LED was measured at its own place in the cycle
      for (let c = 0; c < this.pending.length; c++) this.pending[c] += `${this.time(block, k, c)},${formatValue(block.values[c]![k]!)},${this.rate}\n`;
      this.output.rows++;
    }
    this.flush();
  }

  /** Channel `c`'s time of row `k`: its own (time division), on the group axis when aligned. */
  private time(block: SignalBlock, k: number, c: number): string {
    const channel = block.channels[c]!;
    const index = block.firstIndex + k;
    return this.axis ? this.axis.text(signalTimeS(index, block.rateHz, channel, this.options)) : formatSignalTime(index, block.rateHz, channel, this.options);
  }

  /** Writes the rows buffered for the open segment. */
  private flush(): void {
    this.pending.forEach((text, c) => {
      if (text) this.writers[c]!.write(text);
    });
    this.pending.fill('');
  }

  digital(e: TimedDigitalEvent): void {
    if (e.edge === Edge.EDGE_RISING) this.edges.push({ line: e.line, t: digitalEventTimeS(e, this.tb!) });
  }

  quality(span: SessionQualitySpan): void {
    this.qualityFile.write(span);
  }

  end(summary: ReplaySummary, ctx: ReplayContext | undefined): void {
    this.qualityFile.close();
    if (!ctx || !this.folders) return;
    const seg = this.folders.segmenter;
    seg.finish();
    const outside: RisingEdge[] = [];
    const rateHz = ctx.signalRateHz;
    for (const e of this.edges) {
      const s = segmentAt(seg.segments, e.t, rateHz);
      if (!s) {
        outside.push(e);
        continue;
      }
      const dir = this.folders.dirs.get(s.name)!;
      const name = `DI${e.line}.csv`;
      const f = dir.files.get(name) ?? dir.open(name, 'timestamps');
      f.write(`${this.axis ? this.axis.text(e.t) : e.t.toFixed(9)}\n`);
    }
    for (const dir of this.folders.dirs.values()) dir.close();
    const minSegmentS = this.options.minSegmentS ?? DEFAULT_MIN_SEGMENT_S;
    explainOmitted(seg.omitted, summary, minSegmentS);
    const doc = exportMetadata({
      exportFormat: 'guppy', baseDir: this.out, ctx, summary, options: this.options, gapPolicy: this.policy, minSegmentS,
      columns: ctx.signalChannels.map((c, i) => channelUnits(c, this.names[i]!, this.options)),
      segments: seg.segments, omitted: seg.omitted, files: [...this.output.files, ...(this.alsoWritten?.files ?? [])],
      extra: {
        layout: 'one GuPPy session folder per segment; in each: <channel>.csv (timestamps,data,sampling_rate; the same rows in every channel file, timestamps per channel: when its light was measured) and DI<line>.csv (timestamps of rising edges within the segment)' +
          (this.alsoWritten?.files.length ? '; aux/<label>.csv: EEG/EMG (timestamps,data,sampling_rate, not split into segments), units and scale in aux/aux_units.json' : ''),
        risingEdgesOutsideSegments: outside.map((e) => ({ line: e.line, timeS: e.t, ...(this.axis ? { groupTimeS: this.axis.time(e.t) } : {}) })),
        ...(this.axis ? { groupTime: this.axis.metadata('every timestamps column (channel, DI and aux files); sampling_rate is the rate on the group axis') } : {}),
      },
    });
    writeMetadata(join(this.out, 'export.json'), doc, this.output);
  }
}
