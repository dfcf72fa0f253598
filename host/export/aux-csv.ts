// EEG/EMG (aux inputs) in the CSV export formats, in volts at the electrode: a sink of the same replay
// pass as the format's own sink (index.ts runs both). The scale comes from the recording's DeviceInfo
// through host/pipeline/aux-units.ts; a recording from a device that did not report its amplifier gain
// is written in volts at the ADC input, labelled so in the unit file / header, and the export warns.
//
// guppy  `aux/<label>.csv` per aux input, `timestamps,data,sampling_rate` like every GuPPy channel, with
//        no NaN cells: rows of missing samples are left out and the timestamps keep the true device
//        times (not split into the photometry's segment folders: GuPPy does not analyse EEG/EMG).
//        `aux/aux_units.json` states each file's unit and scale (JSON: GuPPy takes every .csv of a
//        folder for a channel or event file).
// csv    `<name>.aux.csv` beside the wide CSV (aux runs at its own rate): `time_s`, then one column per
//        aux input named with its unit (`EEG_V`, or `EEG_V_at_ADC_input`); gaps as the export's policy.
// pmat   pMAT reads `Time,Signal,Control` only: it carries no aux, and none is written.
// A recording aligned with its group (alignment.json): guppy's timestamps and sampling_rate are on the
// group's axis like its channel files; csv adds a last column `group_time_s` like the wide CSV.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SignalBlock, SignalChannel } from '../pipeline/demodulate.ts';
import type { ReplayContext, ReplaySink } from '../record/replay.ts';
import { formatVolts, TextFileWriter } from '../record/text-file.ts';
import { fileSafeName, type GapPolicy, type TimeOptions } from './common.ts';
import { formatSignalTime, signalTimeS } from '../pipeline/time.ts';
import type { ExportOutput } from './csv-formats.ts';
import { GroupAxis } from './group-axis.ts';

export interface AuxCsvOptions extends TimeOptions {
  gaps?: GapPolicy;
}

/** The unit suffix of an aux channel: volts at the electrode, or at the ADC input (a device that did not report its gain). */
function voltsAtLabel(c: SignalChannel): string {
  return c.voltsAt === 'adc-input' ? 'V_at_ADC_input' : 'V';
}

/** Writes the aux channels of a replay in the GuPPy or wide-CSV layout; `warnings` lists fallback scales. */
export class AuxCsvSink implements ReplaySink {
  readonly output: ExportOutput = { files: [], rows: 0 };
  readonly warnings: string[] = [];
  private files: TextFileWriter[] = [];
  private channels: readonly SignalChannel[] = [];
  private axis: GroupAxis | null = null;

  /**
   * `target`: the GuPPy directory, or the wide CSV's path (the aux file goes beside it). Layout 'none' (pmat,
   * nwb: their own sinks write aux or have no place for it) writes nothing and only collects the warnings.
   */
  constructor(private readonly layout: 'guppy' | 'csv' | 'none', private readonly target: string, private readonly options: AuxCsvOptions = {}) {}

  begin(ctx: ReplayContext): void {
    this.channels = ctx.auxChannels;
    for (const c of this.channels) if (c.scaleWarning) this.warnings.push(c.scaleWarning);
    if (this.channels.length === 0 || this.layout === 'none') return;
    this.axis = GroupAxis.of(ctx.dir);
    if (this.layout === 'guppy') {
      const dir = join(this.target, 'aux');
      mkdirSync(dir, { recursive: true });
      this.files = this.channels.map((c) => this.open(join(dir, `${fileSafeName(c)}.csv`), 'timestamps,data,sampling_rate'));
      // JSON, not CSV: GuPPy takes every .csv in its folder for a channel or an event file
      const units = this.channels.map((c) => ({
        file: `${fileSafeName(c)}.csv`, channel: c.name, unit: voltsAtLabel(c), voltsAt: c.voltsAt ?? 'electrode', voltsPerCode: c.voltsPerCode,
        samplingRateHz: this.axis ? this.axis.rateHz(ctx.auxOutputRateHz) : ctx.auxOutputRateHz, ...(this.axis ? { timestamps: 'on the group\'s axis (alignment.json), sampling_rate the rate on it' } : {}), ...(c.scaleWarning ? { warning: c.scaleWarning } : {}),
      }));
      const path = join(dir, 'aux_units.json');
      writeFileSync(path, `${JSON.stringify({ description: 'EEG/EMG files of this export: data = volts at voltsAt (electrode, or adc-input when the device did not report its amplifier gain)', channels: units }, null, 2)}\n`);
      this.output.files.push(path);
    } else {
      mkdirSync(dirname(this.target), { recursive: true });
      const path = this.target.replace(/(\.csv)?$/i, '.aux.csv');
      this.files = [this.open(path, ['time_s', ...this.channels.map((c) => `${fileSafeName(c)}_${voltsAtLabel(c)}`), ...(this.axis ? ['group_time_s'] : [])].join(','))];
    }
  }

  signals(block: SignalBlock): void {
    if (block.stream !== 'aux' || this.files.length === 0) return;
    // aux channels share one stage, so one shift (the decimator's delay when compensating; none without decimation)
    const time = (k: number): string => formatSignalTime(block.firstIndex + k, block.rateHz, this.channels[0]!, this.options);
    const groupTime = (k: number): string => this.axis!.text(signalTimeS(block.firstIndex + k, block.rateHz, this.channels[0]!, this.options));
    if (this.layout === 'guppy') {
      const stamp = this.axis ? groupTime : time;
      const rate = this.axis ? this.axis.rateHz(block.rateHz) : block.rateHz;
      block.values.forEach((values, c) => {
        const scale = this.channels[c]!.voltsPerCode;
        let text = '';
        for (let k = 0; k < block.count; k++) {
          const v = values[k]!;
          if (Number.isNaN(v)) continue; // no NaN cells in GuPPy's files
          text += `${stamp(k)},${formatVolts(v * scale)},${rate}\n`;
        }
        this.files[c]!.write(text);
      });
    } else {
      const omit = this.options.gaps === 'omit';
      let text = '';
      for (let k = 0; k < block.count; k++) {
        if (omit && block.values.every((v) => Number.isNaN(v[k]!))) continue;
        text += time(k);
        block.values.forEach((values, c) => {
          text += `,${formatVolts(values[k]! * this.channels[c]!.voltsPerCode)}`;
        });
        if (this.axis) text += `,${groupTime(k)}`;
        text += '\n';
      }
      this.files[0]!.write(text);
    }
    this.output.rows += block.count;
  }

  end(): void {
    for (const f of this.files) f.close();
  }

  private open(path: string, header: string): TextFileWriter {
    const f = new TextFileWriter(path);
    f.write(`${header}\n`);
    this.output.files.push(f.path);
    return f;
  }
}
