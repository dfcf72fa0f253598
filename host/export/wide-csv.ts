// Wide CSV export: one file, `time_s`, every demodulated channel, then the
// level of every configured digital input line (0/1, assumed low before its
// first edge). Gaps are NaN rows (default) or left out (`--gaps omit`, times
// stay true device times). Beside it: `<name>.meta.json` (README: "Metadata")
// and `<name>.quality.csv` when a span was flagged LEDs-dark. A recording aligned
// with its group (`fiberrig align`: alignment.json) gets a last column,
// `group_time_s`: the row's time on the group's shared axis (the driver's).
import { mkdirSync } from 'node:fs';
import { type AlignmentFile, DriverTimeMap, readAlignmentFile } from '../align/index.ts';
import { basename, dirname } from 'node:path';
import { Edge } from '../../protocol/index.ts';
import type { SignalBlock } from '../pipeline/demodulate.ts';
import type { TimedDigitalEvent } from '../rig/assembler.ts';
import { digitalEventTimeS, type Timebase } from '../record/derived.ts';
import type { ReplayContext, ReplaySink, ReplaySummary } from '../record/replay.ts';
import type { SessionQualitySpan } from '../record/session.ts';
import { formatValue, TextFileWriter } from '../record/text-file.ts';
import type { GapPolicy } from './common.ts';
import { ChannelTimeColumns } from '../pipeline/time.ts';
import { GroupAxis } from './group-axis.ts';
import {
  channelUnits, type CsvExportOptions, csvGapPolicy, explainOmitted, type ExportOutput, exportMetadata, QualityFile, requireSignals, rowTimeS,
  Segmenter, writeMetadata,
} from './csv-common.ts';

/** `<name>.meta.json` beside `<name>.csv` (or beside `<name>` when it has no .csv). */
export function wideCsvMetadataPath(path: string): string {
  return path.replace(/(\.csv)?$/i, '.meta.json');
}

export class WideCsvSink implements ReplaySink {
  readonly output: ExportOutput = { files: [], rows: 0 };
  /** Files another sink of the same pass writes beside this one (<name>.aux.csv): listed in the meta.json. */
  alsoWritten: ExportOutput | undefined;
  private out: TextFileWriter | undefined;
  private lines: number[] = [];
  private readonly level = new Map<number, number>();
  private pendingEvents: Array<{ t: number; line: number; level: number }> = [];
  private held: SignalBlock | undefined;
  private tb: Timebase | undefined;
  private segmenter: Segmenter | undefined;
  private readonly qualityFile: QualityFile;
  private times: ChannelTimeColumns | undefined;
  private readonly policy: GapPolicy;
  private alignment: AlignmentFile | null = null;
  private groupTime: DriverTimeMap | null = null;

  constructor(private readonly path: string, private readonly options: CsvExportOptions = {}) {
    this.policy = csvGapPolicy('csv', options.gaps);
    this.qualityFile = new QualityFile(path.replace(/(\.csv)?$/i, '.quality.csv'), this.output);
  }


  quality(span: SessionQualitySpan): void {
    this.qualityFile.write(span);
  }

  begin(ctx: ReplayContext): void {
    requireSignals(ctx);
    mkdirSync(dirname(this.path), { recursive: true });
    this.tb = ctx.timebase;
    this.lines = [...(ctx.config.digitalInputIds ?? [])];
    for (const l of this.lines) this.level.set(l, 0);
    this.alignment = readAlignmentFile(ctx.dir);
    this.groupTime = this.alignment ? new DriverTimeMap(this.alignment) : null;
    this.qualityFile.onAxis(GroupAxis.of(ctx.dir));
    this.out = new TextFileWriter(this.path);
    this.times = new ChannelTimeColumns(ctx.signalChannels, this.options);
    this.out.write(`${[...this.times.header(), ...this.lines.map((l) => `DI${l}`), ...(this.groupTime ? ['group_time_s'] : [])].join(',')}\n`);
    this.output.files.push(this.path);
    this.segmenter = new Segmenter(this.policy, 1, { open: () => basename(this.path), close: () => undefined }, this.options);
  }

  signals(block: SignalBlock): void {
    if (block.stream !== 'signals') return;
    // rows wait one block, so edges that arrive just after their samples are still applied
    if (this.held) this.writeBlock(this.held);
    this.held = block;
  }

  digital(e: TimedDigitalEvent): void {
    if (!this.level.has(e.line)) return;
    this.pendingEvents.push({ t: digitalEventTimeS(e, this.tb!), line: e.line, level: e.edge === Edge.EDGE_RISING ? 1 : 0 });
  }

  end(summary: ReplaySummary, ctx: ReplayContext | undefined): void {
    if (this.held) this.writeBlock(this.held);
    this.out?.close();
    this.qualityFile.close();
    if (!ctx || !this.segmenter) return;
    this.segmenter.finish();
    explainOmitted(this.segmenter.omitted, summary, 0);
    const doc = exportMetadata({
      exportFormat: 'csv', baseDir: dirname(this.path), ctx, summary, options: this.options, gapPolicy: this.policy,
      columns: ctx.signalChannels.map((c) => channelUnits(c, c.name, this.options)),
      segments: this.segmenter.segments, omitted: this.segmenter.omitted, files: [...this.output.files, ...(this.alsoWritten?.files ?? [])],
      extra: {
        layout: this.times?.shared === false ? 'one CSV: per demodulated channel <name>_time_s then <name> (the channels were measured at different times), then DI<line> per configured digital input' : 'one CSV: time_s, one column per demodulated channel, then DI<line> per configured digital input',
        digitalColumns: this.lines.map((l) => ({ column: `DI${l}`, line: l, unit: 'level (0 low, 1 high)', note: 'the line level at the row time (edges on the device clock); low assumed before the first edge' })),
        ...(this.alignment ? { groupTime: groupTimeMetadata(this.alignment, this.times?.shared !== false) } : {}),
      },
    });
    writeMetadata(wideCsvMetadataPath(this.path), doc, this.output);
  }

  private writeBlock(block: SignalBlock): void {
    const seg = this.segmenter!;
    this.pendingEvents.sort((a, b) => a.t - b.t);
    let text = '';
    for (let k = 0; k < block.count; k++) {
      const t = rowTimeS(block, k, this.options);
      while (this.pendingEvents.length > 0 && this.pendingEvents[0]!.t <= t) {
        const e = this.pendingEvents.shift()!;
        this.level.set(e.line, e.level);
      }
      if (!seg.keep(block, k)) continue;
      text += this.times!.row(block.firstIndex + k, block.rateHz, block.values.map((values) => formatValue(values[k]!)));
      for (const l of this.lines) text += `,${this.level.get(l)}`;
      if (this.groupTime) text += `,${this.groupTime.map(t).toFixed(9)}`;
      text += '\n';
      this.output.rows++;
    }
    this.out!.write(text);
  }
}

/** The meta.json entry that says what group_time_s is. */
function groupTimeMetadata(a: AlignmentFile, shared: boolean): Record<string, unknown> {
  return {
    column: 'group_time_s', unit: 's', role: a.role, driver: a.group.driver, recordings: a.group.recordings,
    meaning: `the row's time on the group's shared axis: ${a.timeAxis}`,
    of: shared ? 'time_s' : 'the first channel\'s <name>_time_s',
    fit: { offsetS: a.offsetS, scale: a.scale, residualRmsSamples: a.residualRmsSamples, residualMaxSamples: a.residualMaxSamples, edges: a.edges },
    alignedAt: a.alignedAt,
  };
}
