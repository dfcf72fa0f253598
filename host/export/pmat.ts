// pMAT export: what pMAT's CSV import reads — a data file whose first three
// columns are time, signal, control (by position), and an event file of
// `Event,Onset,Offset` rows. One data file per signal/control pair: every
// detector channel that is not a control (465/470 nm green, 560 nm red, ...)
// with the 405 nm isosbestic control of the same detector. One file set per
// gap-free span (default `--gaps segments`): pMAT takes the rate as
// 1 / mean(diff(time)) of the whole file and cuts event windows by sample
// count, so a file must be gap-free for both to be right.
//
//   <out>/export.json                            metadata, incl. the pairs and any channel not paired (and why)
//   <out>/quality.csv                            spans flagged LEDs-dark (only when there are some)
//   <out>/segment_001/det0_470nm_405nm.csv       Time,Signal,Control
//   <out>/segment_001/det0_560nm_405nm.csv
//   <out>/segment_001/events.csv                 Event,Onset,Offset of pulses starting within the segment
//
// A recording aligned with its group (alignment.json): Time, ControlTime, Onset and Offset are on the
// group's axis (group-axis.ts), so pMAT's 1 / mean(diff(Time)) is the rate on that axis; export.json
// says so (groupTime).
import { join } from 'node:path';
import { Edge } from '../../protocol/index.ts';
import type { SignalBlock, SignalChannel } from '../pipeline/demodulate.ts';
import type { TimedDigitalEvent } from '../rig/assembler.ts';
import { digitalEventTimeS, type Timebase } from '../record/derived.ts';
import type { ReplayContext, ReplaySink, ReplaySummary } from '../record/replay.ts';
import type { SessionQualitySpan } from '../record/session.ts';
import { formatValue, type TextFileWriter } from '../record/text-file.ts';
import { ExportError, type GapPolicy, isControlWavelength } from './common.ts';
import { formatSignalTime, signalTimeS, timeShiftS } from '../pipeline/time.ts';
import { GroupAxis } from './group-axis.ts';
import {
  channelUnits, type CsvExportOptions, csvGapPolicy, DEFAULT_MIN_SEGMENT_S, explainOmitted, minSegmentRows, type ExportOutput, exportMetadata, QualityFile,
  requireSignals, segmentAt, SegmentFolders, writeMetadata,
} from './csv-common.ts';

export interface PmatPair {
  detector: number;
  /** Indices among the signal channels. */
  signal: number;
  control: number;
  file: string;
}

export interface PmatPlan {
  pairs: PmatPair[];
  /** Channels in no pair, and why. */
  unpaired: Array<{ channel: string; reason: string }>;
}

/** Signal/control pairs per detector: every non-control channel with the detector's (first) 405 nm control. */
export function pmatPairs(channels: readonly SignalChannel[]): PmatPlan {
  const pairs: PmatPair[] = [];
  const unpaired: PmatPlan['unpaired'] = [];
  const detectors = [...new Set(channels.filter((c) => c.source === 'detector').map((c) => c.inputId))];
  channels.forEach((c) => {
    if (c.source !== 'detector') unpaired.push({ channel: c.name, reason: `${c.source} channel: pMAT reads photometry signal/control pairs only` });
  });
  for (const d of detectors) {
    const mine = channels.map((c, i) => ({ c, i })).filter(({ c }) => c.source === 'detector' && c.inputId === d);
    const controls = mine.filter(({ c }) => isControlWavelength(c.wavelengthNm));
    const signals = mine.filter(({ c }) => !isControlWavelength(c.wavelengthNm));
    const control = controls[0];
    for (const extra of controls.slice(1)) unpaired.push({ channel: extra.c.name, reason: `a second control on detector ${d}; ${control!.c.name} is the control of its pairs` });
    if (!control) {
      for (const s of signals) unpaired.push({ channel: s.c.name, reason: `no 405 nm isosbestic control on detector ${d}` });
      continue;
    }
    if (signals.length === 0) unpaired.push({ channel: control.c.name, reason: `no signal channel on detector ${d} to pair this control with` });
    for (const s of signals) {
      const nm = (x: SignalChannel): string => (x.wavelengthNm !== undefined ? `${x.wavelengthNm}nm` : x.name.replace(/[^A-Za-z0-9]+/g, '_'));
      pairs.push({ detector: d, signal: s.i, control: control.i, file: `det${d}_${nm(s.c)}_${nm(control.c)}.csv` });
    }
  }
  return { pairs, unpaired };
}

interface Pulse {
  line: number;
  onset: number;
  offset: number;
}

export class PmatSink implements ReplaySink {
  readonly output: ExportOutput = { files: [], rows: 0 };
  private tb: Timebase | undefined;
  private plan: PmatPlan = { pairs: [], unpaired: [] };
  private writers: TextFileWriter[] = [];
  /** Per pair, rows of the open segment not yet handed to its writer. */
  private pending: string[] = [];
  /** Per pair: the control's times differ from the signal's (a ControlTime column). */
  private controlTime: boolean[] = [];
  private folders: SegmentFolders | undefined;
  private readonly onsets = new Map<number, number>();
  private readonly pulses: Pulse[] = [];
  private readonly darkSpans: SessionQualitySpan[] = [];
  private readonly qualityFile: QualityFile;
  private readonly policy: GapPolicy;
  private axis: GroupAxis | null = null;

  constructor(private readonly out: string, private readonly options: CsvExportOptions = {}) {
    this.policy = csvGapPolicy('pmat', options.gaps);
    this.qualityFile = new QualityFile(join(out, 'quality.csv'), this.output);
  }


  begin(ctx: ReplayContext): void {
    requireSignals(ctx);
    this.plan = pmatPairs(ctx.signalChannels);
    if (this.plan.pairs.length === 0) {
      throw new ExportError(
        'E_EXPORT_PMAT_CHANNELS', `pMAT needs a 405 nm control and a signal channel (e.g. 465/470 or 560 nm) on one detector; this recording has ${ctx.signalChannels.map((c) => c.name).join(', ')}`,
        'record with a 405 nm LED and a signal LED on the same detector, or use --format csv or guppy',
      );
    }
    this.tb = ctx.timebase;
    this.axis = GroupAxis.of(ctx.dir);
    this.qualityFile.onAxis(this.axis);
    // Time is the signal's; a control measured at another time (time division) gets its own exact column
    this.controlTime = this.plan.pairs.map((p) => timeShiftS(ctx.signalChannels[p.signal]!, this.options) !== timeShiftS(ctx.signalChannels[p.control]!, this.options));
    this.folders = new SegmentFolders(this.out, this.policy, minSegmentRows(this.options, ctx.signalRateHz), this.output, this.options, (dir) => {
      this.writers = this.plan.pairs.map((p, i) => dir.open(p.file, `Time,Signal,Control${this.controlTime[i] ? ',ControlTime' : ''}`));
      this.pending = this.plan.pairs.map(() => '');
    }, () => this.flush());
  }

  signals(block: SignalBlock): void {
    if (block.stream !== 'signals') return;
    const seg = this.folders!.segmenter;
    const pairs = this.plan.pairs;
    for (let k = 0; k < block.count; k++) {
      if (!seg.keep(block, k)) continue;
      for (let p = 0; p < pairs.length; p++) {
        const { signal, control } = pairs[p]!;
        this.pending[p] += `${this.time(block, k, signal)},${formatValue(block.values[signal]![k]!)},${formatValue(block.values[control]![k]!)}`;
        this.pending[p] += this.controlTime[p] ? `,${this.time(block, k, control)}\n` : '\n';
      }
      this.output.rows++;
    }
    this.flush();
  }

  /** Channel `c`'s time of row `k`, on the group axis when aligned. */
  private time(block: SignalBlock, k: number, c: number): string {
    const channel = block.channels[c]!;
    const index = block.firstIndex + k;
    return this.axis ? this.axis.text(signalTimeS(index, block.rateHz, channel, this.options)) : formatSignalTime(index, block.rateHz, channel, this.options);
  }

  private flush(): void {
    this.pending.forEach((text, p) => {
      if (text) this.writers[p]!.write(text);
    });
    this.pending.fill('');
  }

  digital(e: TimedDigitalEvent): void {
    const t = digitalEventTimeS(e, this.tb!);
    if (e.edge === Edge.EDGE_RISING) {
      if (!this.onsets.has(e.line)) this.onsets.set(e.line, t);
      return;
    }
    const onset = this.onsets.get(e.line);
    if (onset === undefined) return; // fell before any rise was seen
    this.onsets.delete(e.line);
    this.pulses.push({ line: e.line, onset, offset: t });
  }

  quality(span: SessionQualitySpan): void {
    this.qualityFile.write(span);
    this.darkSpans.push(span);
  }

  end(summary: ReplaySummary, ctx: ReplayContext | undefined): void {
    this.qualityFile.close();
    if (!ctx || !this.folders) return;
    const seg = this.folders.segmenter;
    seg.finish();
    for (const [line, onset] of [...this.onsets.entries()].sort((a, b) => a[1] - b[1])) this.pulses.push({ line, onset, offset: Number.POSITIVE_INFINITY });
    const at = (t: number): string => (!Number.isFinite(t) ? 'Inf' : this.axis ? this.axis.text(t) : t.toFixed(9));
    const rows: Array<{ onset: number; text: string }> = [
      ...this.pulses.map((p) => ({ onset: p.onset, text: `DI${p.line},${at(p.onset)},${at(p.offset)}\n` })),
      // a dark span lies inside a file only with --gaps omit (its rows left out): it is marked there as an event
      ...this.darkSpans.map((q) => ({ onset: q.startS, text: `${q.label},${at(q.startS)},${at(q.startS + q.durationS)}\n` })),
    ];
    const outside: Array<{ event: string; onsetS: number }> = [];
    const texts = new Map<string, string>();
    for (const r of rows.sort((a, b) => a.onset - b.onset)) {
      const s = this.policy === 'segments' ? segmentAt(seg.segments, r.onset, ctx.signalRateHz) : seg.segments[0];
      if (!s) outside.push({ event: r.text.split(',')[0]!, onsetS: r.onset });
      else texts.set(s.name, (texts.get(s.name) ?? '') + r.text);
    }
    for (const s of seg.segments) {
      const dir = this.folders.dirs.get(s.name)!;
      dir.open('events.csv', 'Event,Onset,Offset').write(texts.get(s.name) ?? '');
      dir.close();
    }
    const minSegmentS = this.options.minSegmentS ?? DEFAULT_MIN_SEGMENT_S;
    explainOmitted(seg.omitted, summary, minSegmentS);
    const channels = ctx.signalChannels;
    const doc = exportMetadata({
      exportFormat: 'pmat', baseDir: this.out, ctx, summary, options: this.options, gapPolicy: this.policy, minSegmentS,
      columns: this.plan.pairs.flatMap((p) => [
        channelUnits(channels[p.signal]!, `${p.file}:Signal`, this.options),
        channelUnits(channels[p.control]!, `${p.file}:Control`, this.options),
      ]),
      segments: seg.segments, omitted: seg.omitted, files: this.output.files,
      extra: {
        layout: 'one folder per segment; in each: det<D>_<signal>nm_<control>nm.csv (Time,Signal,Control, plus ControlTime when the control was measured at another time, as under time division) per pair and events.csv (Event,Onset,Offset of pulses starting within the segment; Offset Inf if the line never fell)',
        pairs: this.plan.pairs.map((p) => ({ file: p.file, detector: p.detector, signal: channels[p.signal]!.name, control: channels[p.control]!.name })),
        unpaired: this.plan.unpaired,
        pmatRateHz: 'pMAT computes the rate as 1 / mean(diff(Time)) over a whole file: with segments that is the output rate',
        eventsOutsideSegments: this.axis ? outside.map((o) => ({ ...o, groupOnsetS: this.axis!.time(o.onsetS) })) : outside,
        ...(this.axis ? { groupTime: this.axis.metadata('Time, ControlTime and the events\' Onset and Offset (pMAT\'s rate, 1 / mean(diff(Time)), is then the rate on the group axis)') } : {}),
      },
    });
    writeMetadata(join(this.out, 'export.json'), doc, this.output);
  }
}
