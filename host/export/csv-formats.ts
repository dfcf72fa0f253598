// CSV exports, each a sink of one streaming replay pass (rows are written as
// signal blocks arrive; memory does not grow with the recording):
//
// guppy  one CSV per demodulated channel, `timestamps,data,sampling_rate`
//        (sampling_rate on every row), and one CSV per digital input line with
//        a `timestamps` column (rising edges), as GuPPy's CSV import reads them.
// pmat   per detector with a 405 nm control and a 465/470 nm signal channel:
//        `Time,Signal,Control` (time in s), and `events.csv` with
//        `Event,Onset,Offset` (rising -> falling edge per line; Inf if it never fell).
// csv    one wide CSV: `time_s`, every demodulated channel, then the level of
//        every configured digital input line (0/1, assumed low before its first edge).
//
// Times come from the device clock (output index / rate on the session
// timeline), minus each channel's filter delay unless delay compensation is off
// (time.ts; README "Time base of the signals"). Gaps are NaN rows (or, with gaps 'omit', left out while the
// time column keeps true device times). Spans flagged because every LED was
// dark are NaN (or omitted) like gaps, and listed: guppy and csv in a
// `quality.csv` (`start_s,stop_s,flag,label`, beside the files / beside the
// wide CSV as <name>.quality.csv), pmat as rows of its events.csv
// (`LEDs dark: watchdog,onset,offset`). The quality file exists only when a
// span was flagged.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Edge } from '../../protocol/index.ts';
import type { SignalBlock } from '../pipeline/demodulate.ts';
import type { TimedDigitalEvent } from '../rig/assembler.ts';
import { digitalEventTimeS, type Timebase } from '../record/derived.ts';
import type { ReplayContext, ReplaySink } from '../record/replay.ts';
import type { SessionQualitySpan } from '../record/session.ts';
import { formatValue, TextFileWriter } from '../record/text-file.ts';
import { ExportError, fileSafeName, type GapPolicy, pairsByDetector, type TimeOptions } from './common.ts';
import { ChannelTimeColumns, formatSignalTime, timeShiftS } from './time.ts';

export interface CsvExportOptions extends TimeOptions {
  gaps?: GapPolicy;
}

/** Files written by an export, for its report. */
export interface ExportOutput {
  files: string[];
  rows: number;
}

/** Writes flagged spans to a `start_s,stop_s,flag,label` CSV, opened at the first span. */
class QualityFile {
  private out: TextFileWriter | undefined;

  constructor(private readonly path: string, private readonly output: ExportOutput) {}

  write(span: SessionQualitySpan): void {
    if (!this.out) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.out = new TextFileWriter(this.path);
      this.out.write('start_s,stop_s,flag,label\n');
      this.output.files.push(this.path);
    }
    this.out.write(`${span.startS.toFixed(6)},${(span.startS + span.durationS).toFixed(6)},${span.flag},${span.label}\n`);
  }

  close(): void {
    this.out?.close();
  }
}

function requireSignals(ctx: ReplayContext): void {
  if (ctx.signalChannels.length === 0) throw new ExportError('E_EXPORT_NO_SIGNALS', 'the recording has no demodulated channels', 'check the recording configuration (fiberrig inspect)');
}

export class GuppySink implements ReplaySink {
  readonly output: ExportOutput = { files: [], rows: 0 };
  private channels: TextFileWriter[] = [];
  private readonly events = new Map<number, TextFileWriter>();
  private tb: Timebase | undefined;
  private rate = '';
  private readonly qualityFile: QualityFile;

  constructor(private readonly dir: string, private readonly options: CsvExportOptions = {}) {
    this.qualityFile = new QualityFile(join(dir, 'quality.csv'), this.output);
  }

  quality(span: SessionQualitySpan): void {
    this.qualityFile.write(span);
  }

  begin(ctx: ReplayContext): void {
    requireSignals(ctx);
    mkdirSync(this.dir, { recursive: true });
    this.tb = ctx.timebase;
    this.rate = String(ctx.signalRateHz);
    this.channels = ctx.signalChannels.map((c) => this.open(`${fileSafeName(c)}.csv`, 'timestamps,data,sampling_rate'));
  }

  signals(block: SignalBlock): void {
    if (block.stream !== 'signals') return;
    const omit = this.options.gaps === 'omit';
    block.values.forEach((values, c) => {
      let text = '';
      for (let k = 0; k < block.count; k++) {
        const v = values[k]!;
        if (omit && Number.isNaN(v)) continue;
        text += `${formatSignalTime(block.firstIndex + k, block.rateHz, block.channels[c]!, this.options)},${formatValue(v)},${this.rate}\n`;
      }
      this.channels[c]!.write(text);
    });
    this.output.rows += block.count;
  }

  digital(e: TimedDigitalEvent): void {
    if (e.edge !== Edge.EDGE_RISING) return;
    let file = this.events.get(e.line);
    if (!file) this.events.set(e.line, (file = this.open(`DI${e.line}.csv`, 'timestamps')));
    file.write(`${digitalEventTimeS(e, this.tb!).toFixed(9)}\n`);
  }

  end(): void {
    for (const f of [...this.channels, ...this.events.values()]) f.close();
    this.qualityFile.close();
  }

  private open(name: string, header: string): TextFileWriter {
    const f = new TextFileWriter(join(this.dir, name));
    f.write(`${header}\n`);
    this.output.files.push(f.path);
    return f;
  }
}

export class PmatSink implements ReplaySink {
  readonly output: ExportOutput = { files: [], rows: 0 };
  private files: Array<{ out: TextFileWriter; signal: number; control: number; controlTime: boolean }> = [];
  private events: TextFileWriter | undefined;
  private readonly onsets = new Map<number, number>();
  private tb: Timebase | undefined;

  constructor(private readonly dir: string, private readonly options: CsvExportOptions = {}) {}

  begin(ctx: ReplayContext): void {
    requireSignals(ctx);
    const pairs = pairsByDetector(ctx.signalChannels);
    if (pairs.length === 0) {
      throw new ExportError(
        'E_EXPORT_PMAT_CHANNELS', `pMAT needs a 405 nm control and a 465/470 nm signal on one detector; this recording has ${ctx.signalChannels.map((c) => c.name).join(', ')}`,
        'record with a 405 nm and a 470 nm LED, or use --format csv or guppy',
      );
    }
    mkdirSync(this.dir, { recursive: true });
    this.tb = ctx.timebase;
    this.files = pairs.map((p) => {
      const out = new TextFileWriter(join(this.dir, `det${p.detector}.csv`));
      // Time is the signal's; a control measured at another time (time division) gets its own exact column
      const controlTime = timeShiftS(ctx.signalChannels[p.signal]!, this.options) !== timeShiftS(ctx.signalChannels[p.control]!, this.options);
      out.write(`Time,Signal,Control${controlTime ? ',ControlTime' : ''}\n`);
      this.output.files.push(out.path);
      return { out, signal: p.signal, control: p.control, controlTime };
    });
    this.events = new TextFileWriter(join(this.dir, 'events.csv'));
    this.events.write('Event,Onset,Offset\n');
    this.output.files.push(this.events.path);
  }

  signals(block: SignalBlock): void {
    if (block.stream !== 'signals') return;
    const omit = this.options.gaps === 'omit';
    for (const f of this.files) {
      const sig = block.values[f.signal]!;
      const ctl = block.values[f.control]!;
      let text = '';
      for (let k = 0; k < block.count; k++) {
        if (omit && (Number.isNaN(sig[k]!) || Number.isNaN(ctl[k]!))) continue;
        const i = block.firstIndex + k;
        text += `${formatSignalTime(i, block.rateHz, block.channels[f.signal]!, this.options)},${formatValue(sig[k]!)},${formatValue(ctl[k]!)}`;
        text += f.controlTime ? `,${formatSignalTime(i, block.rateHz, block.channels[f.control]!, this.options)}\n` : '\n';
      }
      f.out.write(text);
    }
    this.output.rows += block.count;
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
    this.events!.write(`DI${e.line},${onset.toFixed(9)},${t.toFixed(9)}\n`);
  }

  quality(span: SessionQualitySpan): void {
    this.events?.write(`${span.label},${span.startS.toFixed(9)},${(span.startS + span.durationS).toFixed(9)}\n`);
  }

  end(): void {
    for (const [line, onset] of [...this.onsets.entries()].sort((a, b) => a[1] - b[1])) this.events?.write(`DI${line},${onset.toFixed(9)},Inf\n`);
    for (const f of this.files) f.out.close();
    this.events?.close();
  }
}

export class WideCsvSink implements ReplaySink {
  readonly output: ExportOutput = { files: [], rows: 0 };
  private out: TextFileWriter | undefined;
  private lines: number[] = [];
  private readonly level = new Map<number, number>();
  private pendingEvents: Array<{ t: number; line: number; level: number }> = [];
  private held: SignalBlock | undefined;
  private tb: Timebase | undefined;
  private times: ChannelTimeColumns | undefined;
  private readonly qualityFile: QualityFile;

  constructor(private readonly path: string, private readonly options: CsvExportOptions = {}) {
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
    this.out = new TextFileWriter(this.path);
    this.times = new ChannelTimeColumns(ctx.signalChannels, this.options);
    this.out.write(`${[...this.times.header(), ...this.lines.map((l) => `DI${l}`)].join(',')}\n`);
    this.output.files.push(this.path);
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

  end(): void {
    if (this.held) this.writeBlock(this.held);
    this.out?.close();
    this.qualityFile.close();
  }

  private writeBlock(block: SignalBlock): void {
    const omit = this.options.gaps === 'omit';
    this.pendingEvents.sort((a, b) => a.t - b.t);
    let text = '';
    for (let k = 0; k < block.count; k++) {
      const t = this.times!.rowTimeS(block.firstIndex + k, block.rateHz);
      while (this.pendingEvents.length > 0 && this.pendingEvents[0]!.t <= t) {
        const e = this.pendingEvents.shift()!;
        this.level.set(e.line, e.level);
      }
      if (omit && block.values.every((v) => Number.isNaN(v[k]!))) continue;
      text += this.times!.row(block.firstIndex + k, block.rateHz, block.values.map((values) => formatValue(values[k]!)));
      for (const l of this.lines) text += `,${this.level.get(l)}`;
      text += '\n';
    }
    this.out!.write(text);
    this.output.rows += block.count;
  }
}
