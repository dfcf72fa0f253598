// One unit: one streaming pass that owns the HDF5 file from the first group to the last resize.
// NWB 2.x (HDF5) export with the ndx-fiber-photometry layout, written with
// h5wasm in one streaming pass: every series is a chunked, gzip-compressed,
// resizable dataset that grows by `resize` + `write_slice` in batches, so
// memory does not grow with the recording.
//
// Layout (types: namespace core unless noted):
//   /                                   NWBFile (nwb_version 2.9.0), identifier, session_description,
//                                       session_start_time, timestamps_reference_time, file_create_date
//   /general/devices/fiberrig           Device: the rig (board, serial, firmware)
//   /general/devices/excitation_source_<led>   ExcitationSource (ndx-ophys-devices), one per configured LED
//   /general/devices/photodetector_<det>       Photodetector (ndx-ophys-devices), one per detector
//   /general/devices/optical_fiber_<det>       OpticalFiber (ndx-ophys-devices) + fiber_insertion (FiberInsertion)
//   /general/devices/dichroic_mirror_<det>     DichroicMirror (ndx-ophys-devices): a described placeholder
//   /general/fiber_photometry           FiberPhotometry (LabMetaData, ndx-fiber-photometry)
//       fiber_photometry_table          FiberPhotometryTable: one row per (detector, LED) with location,
//                                       excitation/emission wavelength, indicator, optical_fiber,
//                                       excitation_source, photodetector, dichroic_mirror (object references), notes
//       fiber_photometry_indicators     FiberPhotometryIndicators > Indicator (ndx-ophys-devices) per wavelength
//   /general/subject (Subject), /general/notes, /general/data_collection (export metadata
//                                       JSON: targets, units, rates, group delays, gap policy; nwb/metadata.ts)
//   /acquisition/raw_photodetector_<det>   FiberPhotometryResponseSeries: raw ADC codes at the sample rate
//                                       (conversion = volts per code), table region = that detector's rows
//   /acquisition/<EEG|EMG|aux<id>>      ElectricalSeries: raw aux codes at the aux rate, conversion = volts per code,
//                                       electrodes = its row of the electrodes table
//   /general/extracellular_ephys        ElectrodeGroup per aux input (device: link to the rig) and `electrodes`
//                                       (ElectrodesTable: location, group, group_name), one row per aux input
//   /acquisition/digital_input_<line>   TimeSeries: one sample per edge (1 rising, 0 falling) with timestamps
//   /acquisition/led_<channel>_current  TimeSeries: LED current changes with timestamps (stored in mA; unit amperes,
//                                       conversion 0.001)
//   /processing/ophys                   ProcessingModule
//       demodulated                     FiberPhotometryResponseSeries [time, channel], table region = all rows
//   /intervals/invalid_times            TimeIntervals: every gap (start_time, stop_time, source, reason, uncertainty_s)
//   /intervals/quality                  TimeIntervals: spans whose samples arrived but whose demodulated
//                                       signals are NaN (start_time, stop_time, flag, label, e.g.
//                                       "LEDs dark: watchdog")
//   /specifications                     the namespaces used, cached as pynwb does (nwb/cache.ts; `.specloc` on /)
//
// A recording aligned with its group (alignment.json, ../align): every time is on the group's axis
// (group-axis.ts): regular series' starting_time and rate (the fitted line), timestamps and intervals
// through the knots; timestamps_reference_time is the driver's sample 0; data_collection's time.groupTime.
// Regular series use starting_time + rate on the device clock; samples that
// never arrived are NaN (never zero-filled, never closed up).
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type h5wasmModule from 'h5wasm/node';
import { Edge } from '../../protocol/index.ts';
import { auxScale } from '../pipeline/aux-units.ts';
import type { SignalBlock } from '../pipeline/demodulate.ts';
import type { AcquisitionItem, RigBlock, TimedDigitalEvent, TimedLedEvent } from '../rig/assembler.ts';
import { digitalEventTimeS, type Timebase } from '../record/derived.ts';
import type { ReplayContext, ReplaySink, ReplaySummary } from '../record/replay.ts';
import type { SessionQualitySpan } from '../record/session.ts';
import { FIBERRIG_VERSION } from '../record/version.ts';
import { ExportError, isControlWavelength, isGreenWavelength, type TimeOptions } from './common.ts';
import type { ExportOutput } from './csv-formats.ts';
import { TARGET_VERSIONS, writeSpecifications } from './nwb/cache.ts';
import { type SeriesMetadata, exportMetadata } from './nwb/metadata.ts';
import { type Dtype, EventSeries, GrowingSeries } from './nwb/series.ts';
import { GroupAxis } from './group-axis.ts';
import { attrF64, dataAttributes, elementIds, startingTime, tableRegion, timeSeriesGroup, typed, vectorData } from './nwb/h5-objects.ts';
import { compensatesDelay, seriesTimeOffsetsS, signalTimeS } from '../pipeline/time.ts';

// h5wasm (4 MB of WebAssembly glue) loads on first use; the CLI loads it natively first (cli/native-preloads.js, README)
type H5 = typeof h5wasmModule;
type H5File = InstanceType<H5['File']>;
type H5Group = ReturnType<H5File['create_group']>;
type H5Dataset = ReturnType<H5Group['create_dataset']>;
type H5Reference = ReturnType<H5Group['create_reference']>;

export const NWB_VERSION = '2.9.0';
const NS_CORE = 'core';
const NS_FP = 'ndx-fiber-photometry';
const NS_DEVICES = 'ndx-ophys-devices';

let loading: Promise<H5> | undefined;
/** Loads the HDF5 library (WebAssembly) once. */
export function h5Ready(): Promise<H5> {
  loading ??= import('h5wasm/node').then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return loading;
}

/** LED currents are stored in mA, as the device reports them; the file's unit is amperes. */
const LED_AMPERES_PER_MA = 1e-3;

const safe = (s: string): string => s.replace(/[^A-Za-z0-9_-]+/g, '_');

export interface NwbExportOptions extends TimeOptions {
  sessionDescription?: string;
}

export class NwbSink implements ReplaySink {
  readonly output: ExportOutput = { files: [], rows: 0 };
  private file: H5File | undefined;
  private ctx: ReplayContext | undefined;
  private tb: Timebase | undefined;
  private acquisition!: H5Group;
  private tableRef!: H5Reference;
  private rowsByDetector = new Map<number, number[]>();
  /** aux input id -> its row of /general/extracellular_ephys/electrodes */
  private readonly electrodeRows = new Map<number, number>();
  private electrodesRef: H5Reference | undefined;
  private tableRows = 0;
  private general: H5Group | undefined;
  private demod: GrowingSeries | undefined;
  private readonly raw = new Map<number, GrowingSeries>();
  private readonly aux = new Map<number, GrowingSeries>();
  private readonly digitalSeries = new Map<number, EventSeries>();
  private readonly ledSeries = new Map<number, EventSeries>();
  private readonly gaps: Array<{ start: number; stop: number; sources: string[]; reason: string; uncertaintyS: number }> = [];
  private readonly qualitySpans: SessionQualitySpan[] = [];
  private readonly gapKeys = new Set<string>();
  /** path -> what the file's metadata says about that series */
  private readonly seriesMeta: Record<string, SeriesMetadata> = {};
  /** The group's axis when the recording was aligned (every time written goes through t() and rate()). */
  private axis: GroupAxis | null = null;

  constructor(private readonly path: string, private readonly options: NwbExportOptions = {}) {}

  async begin(ctx: ReplayContext): Promise<void> {
    const h5 = await h5Ready();
    this.ctx = ctx;
    this.tb = ctx.timebase;
    this.axis = GroupAxis.of(ctx.dir);
    mkdirSync(dirname(this.path), { recursive: true });
    rmSync(this.path, { force: true });
    let file: H5File;
    try {
      file = new h5.File(this.path, 'w');
    } catch (cause) {
      throw new ExportError('E_EXPORT_NWB_OPEN', `cannot create ${this.path}: ${(cause as Error).message}`, 'check the --out path and that its directory is writable', { cause });
    }
    this.file = file;
    this.output.files.push(this.path);
    file.create_attribute('nwb_version', NWB_VERSION);
    typed(file as unknown as H5Group, 'NWBFile', NS_CORE);
    this.acquisition = file.create_group('acquisition');
    file.create_group('analysis');
    const stimulus = file.create_group('stimulus');
    stimulus.create_group('presentation');
    stimulus.create_group('templates');
    const processing = file.create_group('processing');
    const general = file.create_group('general');
    this.writeGeneral(general, ctx);
    if (ctx.signalChannels.length > 0) {
      const ophys = processing.create_group('ophys');
      typed(ophys, 'ProcessingModule', NS_CORE);
      ophys.create_attribute('description', 'demodulated fiber photometry signals (fiberrig)');
      const vpc = ctx.signalChannels.map((c) => c.voltsPerCode);
      const uniform = vpc.every((v) => v === vpc[0]);
      const compensated = compensatesDelay(this.options);
      const delays = ctx.signalChannels.map((c) => `${c.name} ${(c.groupDelayS * 1000).toFixed(3)} ms`).join(', ');
      const g = timeSeriesGroup(ophys, 'demodulated', 'FiberPhotometryResponseSeries', NS_FP,
        `demodulated signal per (detector, LED): ${ctx.signalChannels.map((c) => c.name).join(', ')}`,
        `fiberrig ${FIBERRIG_VERSION}; ${ctx.signalRateHz} Hz; demodulator group delay per column: ${delays}; ` +
        `times ${compensated ? 'compensated for it (when the light was measured)' : 'NOT compensated (raw filter output times)'}; ` +
        `NaN where samples never arrived (see /intervals/invalid_times) or filters were settling; settings ${JSON.stringify(ctx.demodOptions ?? {})}; ` +
        'machine-readable: /general/data_collection');
      this.demod = new GrowingSeries(g, 'data', ctx.signalChannels.length, '<d');
      const unit = uniform ? 'volts' : 'ADC codes';
      const conversion = uniform ? vpc[0]! : 1;
      dataAttributes(this.demod.ds, unit, conversion, 'continuous');
      // when the light of output 0 was measured (its group delay compensated unless asked not to); with time division
      // the LEDs' windows differ: this is the first channel's; the others' offsets (host/pipeline/time.ts seriesTimeOffsetsS) go in the metadata
      const startS = this.t(ctx.signalChannels.length > 0 ? signalTimeS(0, ctx.signalRateHz, ctx.signalChannels[0]!, this.options) : 0);
      startingTime(g, startS, this.rate(ctx.signalRateHz));
      const offsets = seriesTimeOffsetsS(ctx.signalChannels, this.options);
      this.seriesMeta['/processing/ophys/demodulated'] = {
        neurodataType: 'FiberPhotometryResponseSeries', unit, conversion: Math.fround(conversion), offset: 0, rateHz: this.rate(ctx.signalRateHz), startingTimeS: startS, continuity: 'continuous',
        columns: ctx.signalChannels.map((c, i) => ({ name: c.name, groupDelayS: c.groupDelayS, timeOffsetS: offsets[i] ?? 0, wavelengthNm: c.wavelengthNm ?? null, detector: c.source === 'detector' ? c.inputId : null })),
      };
      const rows = ctx.signalChannels.map((c) => {
        const det = this.rowsByDetector.get(c.inputId) ?? [];
        const ledIndex = (ctx.config.leds ?? []).findIndex((l) => (l.channel ?? 0) === c.ledChannel);
        return det[Math.max(0, ledIndex)] ?? det[0] ?? 0;
      });
      tableRegion(g, rows, this.tableRef, 'the FiberPhotometryTable row of each column');
    }
  }

  quality(span: SessionQualitySpan): void {
    this.qualitySpans.push(span);
  }

  item(item: AcquisitionItem): void {
    if (item.kind === 'light') return; // spans arrive through quality()
    if (item.kind === 'gap') {
      const rate = item.source === 'aux' ? this.tb!.auxRateHz : this.tb!.rateHz;
      const start = item.sessionIndex / rate;
      const stop = (item.sessionIndex + item.count) / rate;
      const key = `${start}:${stop}`;
      const uncertaintyS = item.uncertaintySamples / rate;
      if (!this.gapKeys.has(key)) {
        this.gapKeys.add(key);
        this.gaps.push({ start, stop, sources: [item.source], reason: item.reason, uncertaintyS });
      } else {
        const same = this.gaps.find((g) => g.start === start && g.stop === stop)!;
        if (!same.sources.includes(item.source)) same.sources.push(item.source);
        same.uncertaintyS = Math.max(same.uncertaintyS, uncertaintyS);
      }
      const targets = item.source === 'aux' ? this.aux : this.raw;
      for (const r of targets.values()) r.padTo(item.sessionIndex + item.count);
      return;
    }
    this.rawBlock(item);
  }

  signals(block: SignalBlock): void {
    if (block.stream !== 'signals' || !this.demod) return;
    const ch = block.values.length;
    const inter = new Float64Array(block.count * ch);
    for (let c = 0; c < ch; c++) {
      const v = block.values[c]!;
      for (let k = 0; k < block.count; k++) inter[k * ch + c] = v[k]!;
    }
    this.demod.put(block.firstIndex, block.count, inter, ch, 0);
    this.output.rows += block.count;
  }

  digital(e: TimedDigitalEvent): void {
    let s = this.digitalSeries.get(e.line);
    if (!s) {
      const g = timeSeriesGroup(this.acquisition, `digital_input_${e.line}`, 'TimeSeries', NS_CORE, `edges on digital input line ${e.line}: 1 = rising (line went high), 0 = falling`, `times on ${this.clock()}, sub-sample resolution`);
      s = new EventSeries(g, '<f');
      dataAttributes(s.data.ds, 'n/a', 1, 'instantaneous');
      this.seriesMeta[g.path] = { neurodataType: 'TimeSeries', unit: 'n/a', conversion: 1, offset: 0, rateHz: null, startingTimeS: null, continuity: 'instantaneous' };
      this.digitalSeries.set(e.line, s);
    }
    s.add(this.t(digitalEventTimeS(e, this.tb!)), e.edge === Edge.EDGE_RISING ? 1 : 0);
  }

  led(e: TimedLedEvent): void {
    let s = this.ledSeries.get(e.channel);
    if (!s) {
      const g = timeSeriesGroup(this.acquisition, `led_${e.channel}_current`, 'TimeSeries', NS_CORE, `LED ${e.channel} drive changes while recording`,
        'the value is the new peak current from this time on; stored in mA: amperes = stored × conversion (0.001)');
      s = new EventSeries(g, '<f');
      // SI unit in the file, the data as the device reports it (mA)
      dataAttributes(s.data.ds, 'amperes', LED_AMPERES_PER_MA, 'step');
      this.seriesMeta[g.path] = {
        neurodataType: 'TimeSeries', unit: 'amperes', conversion: Math.fround(LED_AMPERES_PER_MA), offset: 0, rateHz: null, startingTimeS: null, continuity: 'step',
        note: 'stored values are milliamperes (as the device reports them); × conversion = amperes',
      };
      this.ledSeries.set(e.channel, s);
    }
    s.add(this.t(e.sessionIndex / this.tb!.rateHz), e.currentMa);
  }

  end(summary: ReplaySummary): void {
    const file = this.file;
    if (!file || !this.ctx) return;
    try {
      this.demod?.flush();
      for (const r of [...this.raw.values(), ...this.aux.values()]) r.flush();
      for (const s of [...this.digitalSeries.values(), ...this.ledSeries.values()]) s.finish();
      for (const [, s] of this.digitalSeries) s.timestamps.ds.create_attribute('interval', 1, null, '<i');
      for (const [, s] of this.ledSeries) s.timestamps.ds.create_attribute('interval', 1, null, '<i');
      for (const s of [...this.digitalSeries.values(), ...this.ledSeries.values()]) s.timestamps.ds.create_attribute('unit', 'seconds');
      this.writeIntervals(file as unknown as H5Group);
      this.writeRoot(file as unknown as H5Group, summary);
      this.writeMetadata();
      writeSpecifications(file as unknown as Parameters<typeof writeSpecifications>[0]);
    } finally {
      file.close();
      this.file = undefined;
    }
  }

  // ------------------------------------------------------------ internals

  /** A device time (s) as written: on the group's axis when aligned. */
  private t(deviceS: number): number {
    return this.axis ? this.axis.time(deviceS) : deviceS;
  }

  /** A device rate as written: per group-axis second when aligned. */
  private rate(deviceRateHz: number): number {
    return this.axis ? this.axis.rateHz(deviceRateHz) : deviceRateHz;
  }

  private clock(): string {
    return this.axis ? `the group's time axis (${this.axis.alignment.group.driver}'s clock; /general/data_collection time.groupTime)` : 'the device clock';
  }

  private rawBlock(block: RigBlock): void {
    const targets = block.source === 'aux' ? this.aux : this.raw;
    block.channelIds.forEach((id, column) => {
      let r = targets.get(id);
      if (!r) {
        r = block.source === 'aux' ? this.createAux(id, block) : this.createRaw(id, block);
        targets.set(id, r);
      }
      r.put(block.sessionIndex, block.sampleCount, block.samples, block.channelIds.length, column);
    });
  }

  private dtypeFor(block: RigBlock): Dtype {
    return block.samples instanceof Int16Array || block.samples instanceof Uint16Array ? '<f' : '<d';
  }

  private createRaw(id: number, block: RigBlock): GrowingSeries {
    const d = this.ctx!.info.detectors.find((x) => x.id === id);
    const vpc = d && d.adcBits > 0 ? d.fullScaleV / 2 ** d.adcBits : 1;
    const g = timeSeriesGroup(this.acquisition, `raw_photodetector_${id}`, 'FiberPhotometryResponseSeries', NS_FP,
      `raw photodetector ${id}${d?.label ? ` (${d.label})` : ''} ADC codes at the sample rate, every LED multiplexed`,
      `volts at the ADC input = code × conversion; ${this.tb!.rateHz} Hz; NaN where samples never arrived (see /intervals/invalid_times)`);
    const series = new GrowingSeries(g, 'data', 1, this.dtypeFor(block));
    dataAttributes(series.ds, 'volts', vpc, 'continuous');
    startingTime(g, this.t(0), this.rate(this.tb!.rateHz));
    this.seriesMeta[g.path] = { neurodataType: 'FiberPhotometryResponseSeries', unit: 'volts', conversion: Math.fround(vpc), offset: 0, rateHz: this.rate(this.tb!.rateHz), startingTimeS: this.t(0), continuity: 'continuous' };
    tableRegion(g, this.rowsByDetector.get(id) ?? [], this.tableRef, `the FiberPhotometryTable rows of photodetector ${id}`);
    return series;
  }

  private createAux(id: number, block: RigBlock): GrowingSeries {
    const a = this.ctx!.info.auxInputs.find((x) => x.id === id);
    // data * conversion = volts at the electrode (host/pipeline/aux-units.ts), or at the ADC input when the device did not report its gain
    const scale = auxScale(this.ctx!.info, id);
    let name = safe(a?.label || `aux${id}`);
    if (this.acquisition.keys().includes(name)) name = `${name}_${id}`;
    const where = scale.voltsAt === 'electrode' ? 'volts at the electrode = code × conversion' : `volts at the ADC input = code × conversion (${scale.warning})`;
    // an ElectricalSeries needs its electrode row; an aux input the configuration did not list has none: a plain TimeSeries
    const row = this.electrodeRows.get(id);
    const type = row !== undefined && this.electrodesRef ? 'ElectricalSeries' : 'TimeSeries';
    const g = timeSeriesGroup(this.acquisition, name, type, NS_CORE, `aux input ${id}${a?.label ? ` (${a.label})` : ''}, raw ADC codes; ${where}`,
      `${where}; ${this.tb!.auxRateHz} Hz, not filtered; NaN where samples never arrived (see /intervals/invalid_times)`);
    const series = new GrowingSeries(g, 'data', 1, this.dtypeFor(block));
    const vpc = scale.voltsPerCode;
    dataAttributes(series.ds, 'volts', vpc, 'continuous');
    startingTime(g, this.t(0), this.rate(this.tb!.auxRateHz));
    if (row !== undefined && this.electrodesRef) tableRegion(g, [row], this.electrodesRef, `the electrode of aux input ${id}`, 'electrodes');
    this.seriesMeta[g.path] = {
      neurodataType: type, unit: 'volts', conversion: Math.fround(vpc), offset: 0, rateHz: this.rate(this.tb!.auxRateHz), startingTimeS: this.t(0), continuity: 'continuous',
      voltsAt: scale.voltsAt, ...(scale.warning ? { note: scale.warning } : {}),
    };
    return series;
  }

  private writeGeneral(general: H5Group, ctx: ReplayContext): void {
    const info = ctx.info;
    const devices = general.create_group('devices');
    const rig = devices.create_group('fiberrig');
    typed(rig, 'Device', NS_CORE);
    rig.create_attribute('description', `${info.boardModel} serial ${info.serialNumber || 'unknown'}, firmware ${info.firmwareName} ${info.firmwareVersion} (${info.buildId || 'no build id'})`);
    rig.create_attribute('manufacturer', 'fiberrig');
    this.writeElectrodes(general, ctx);

    const leds = ctx.config.leds ?? [];
    const sources = new Map<number, H5Reference>();
    const wavelengthOf = (channel: number): number => info.leds.find((l) => l.id === channel)?.wavelengthNm ?? Number.NaN;
    for (const l of leds) {
      const ch = l.channel ?? 0;
      const g = devices.create_group(`excitation_source_${ch}`);
      typed(g, 'ExcitationSource', NS_DEVICES);
      g.create_attribute('description', `LED channel ${ch}, ${wavelengthOf(ch)} nm, ${l.currentMa !== undefined && l.currentMa !== null ? `${l.currentMa} mA` : `${l.powerUw} µW`}${l.carrierHz ? `, lock-in carrier ${l.carrierHz} Hz` : ''}`);
      if (l.powerUw) attrF64(g, 'power_in_W', l.powerUw * 1e-6);
      sources.set(ch, g.create_reference());
    }
    let placeholder: H5Reference | undefined;
    const sourceRef = (ch: number | undefined): H5Reference => {
      const ref = ch === undefined ? undefined : sources.get(ch);
      if (ref) return ref;
      if (!placeholder) {
        const g = devices.create_group('excitation_source_none');
        typed(g, 'ExcitationSource', NS_DEVICES);
        g.create_attribute('description', 'no LED configured');
        placeholder = g.create_reference();
      }
      return placeholder;
    };

    const detectorRefs = new Map<number, { pd: H5Reference; fiber: H5Reference; mirror: H5Reference }>();
    for (const id of ctx.detectorIds) {
      const d = info.detectors.find((x) => x.id === id);
      const pd = devices.create_group(`photodetector_${id}`);
      typed(pd, 'Photodetector', NS_DEVICES);
      pd.create_attribute('description', `photodetector ${id}${d?.label ? ` (${d.label})` : ''}: ${d?.adcBits ?? '?'}-bit ADC, ${d?.fullScaleV ?? '?'} V full scale`);
      const fiber = devices.create_group(`optical_fiber_${id}`);
      typed(fiber, 'OpticalFiber', NS_DEVICES);
      fiber.create_attribute('description', `the optical fiber read by photodetector ${id}`);
      const insertion = fiber.create_group('fiber_insertion');
      typed(insertion, 'FiberInsertion', NS_DEVICES);
      const mirror = devices.create_group(`dichroic_mirror_${id}`);
      typed(mirror, 'DichroicMirror', NS_DEVICES);
      mirror.create_attribute('description', `the dichroic mirror in the light path of photodetector ${id} (its properties are not known to the rig: edit after export)`);
      detectorRefs.set(id, { pd: pd.create_reference(), fiber: fiber.create_reference(), mirror: mirror.create_reference() });
    }

    // indicators: one per excitation wavelength (what is expressed is not known to the rig)
    const fp = general.create_group('fiber_photometry');
    typed(fp, 'FiberPhotometry', NS_FP);
    const indicatorsGroup = fp.create_group('fiber_photometry_indicators');
    typed(indicatorsGroup, 'FiberPhotometryIndicators', NS_FP);
    const indicatorRefs = new Map<string, H5Reference>();
    const indicatorRef = (nm: number): H5Reference => {
      const key = Number.isFinite(nm) ? `${nm}nm` : 'unknown';
      let ref = indicatorRefs.get(key);
      if (!ref) {
        const g = indicatorsGroup.create_group(`indicator_${key}`);
        typed(g, 'Indicator', NS_DEVICES);
        const role = isControlWavelength(nm) ? 'isosbestic control' : isGreenWavelength(nm) ? 'green sensor' : 'sensor';
        g.create_attribute('label', `unspecified (${role}, excited at ${key})`);
        g.create_attribute('description', 'the rig does not know the indicator; edit this label after export');
        ref = g.create_reference();
        indicatorRefs.set(key, ref);
      }
      return ref;
    };

    // table rows: (detector, LED) in the demodulator's channel order
    const rows: Array<{ det: number; led: number | undefined; nm: number; name: string }> = [];
    for (const det of ctx.detectorIds) {
      const ledsHere = leds.length > 0 ? leds.map((l) => l.channel ?? 0) : [undefined];
      for (const led of ledsHere) {
        const nm = led === undefined ? Number.NaN : wavelengthOf(led);
        rows.push({ det, led, nm, name: led === undefined ? `det${det}` : `${nm}nm@det${det}` });
      }
    }
    rows.forEach((r, i) => {
      this.rowsByDetector.set(r.det, [...(this.rowsByDetector.get(r.det) ?? []), i]);
    });
    this.tableRows = rows.length;
    const table = fp.create_group('fiber_photometry_table');
    typed(table, 'FiberPhotometryTable', NS_FP);
    table.create_attribute('description', 'one row per (photodetector, LED): each demodulated channel');
    const columns = ['location', 'excitation_wavelength_in_nm', 'emission_wavelength_in_nm', 'indicator', 'optical_fiber', 'excitation_source', 'photodetector', 'dichroic_mirror', 'notes'];
    table.create_attribute('colnames', columns);
    elementIds(table, rows.length);
    vectorData(table, 'location', rows.map(() => 'unspecified'), 'location of the fiber (not known to the rig)');
    vectorData(table, 'excitation_wavelength_in_nm', Float64Array.from(rows.map((r) => r.nm)), 'LED peak wavelength', '<d');
    vectorData(table, 'emission_wavelength_in_nm', Float64Array.from(rows.map(() => Number.NaN)), 'emission wavelength (not known to the rig: NaN)', '<d');
    vectorData(table, 'indicator', rows.map((r) => indicatorRef(r.nm)), 'the indicator excited by this LED');
    vectorData(table, 'optical_fiber', rows.map((r) => detectorRefs.get(r.det)!.fiber), 'the fiber read by this photodetector');
    vectorData(table, 'excitation_source', rows.map((r) => sourceRef(r.led)), 'the LED');
    vectorData(table, 'photodetector', rows.map((r) => detectorRefs.get(r.det)!.pd), 'the photodetector');
    vectorData(table, 'dichroic_mirror', rows.map((r) => detectorRefs.get(r.det)!.mirror), 'the dichroic mirror in front of the photodetector');
    vectorData(table, 'notes', rows.map((r) => `fiberrig channel ${r.name}`), 'fiberrig channel name');
    this.tableRef = table.create_reference();

    const subject = ctx.session?.subject ?? (ctx.meta.subject as string | null | undefined) ?? null;
    if (subject) {
      const s = general.create_group('subject');
      typed(s, 'Subject', NS_CORE);
      s.create_dataset({ name: 'subject_id', data: subject });
    }
    const notes = ctx.session?.notes ?? (ctx.meta.notes as string | null | undefined) ?? null;
    if (notes) general.create_dataset({ name: 'notes', data: notes });
    this.general = general;
  }

  /**
   * /general/extracellular_ephys for the aux (EEG/EMG) inputs of the configuration: an ElectrodeGroup per input
   * (linked to the rig, whose headstage records it) and the electrodes table, one row per input.
   */
  private writeElectrodes(general: H5Group, ctx: ReplayContext): void {
    const ids = ctx.auxIds.filter((id) => ctx.info.auxInputs.some((a) => a.id === id));
    if (ids.length === 0) return;
    const ephys = general.create_group('extracellular_ephys');
    const groups: Array<{ name: string; ref: H5Reference }> = [];
    for (const id of ids) {
      const a = ctx.info.auxInputs.find((x) => x.id === id)!;
      let name = safe(a.label || `aux${id}`);
      if (groups.some((x) => x.name === name) || name === 'electrodes') name = `${name}_${id}`;
      const g = ephys.create_group(name);
      typed(g, 'ElectrodeGroup', NS_CORE);
      const scale = auxScale(ctx.info, id);
      g.create_attribute('description', `aux input ${id}${a.label ? ` (${a.label})` : ''} of the rig, ${a.adcBits}-bit ADC; ` +
        (scale.voltsAt === 'electrode' ? 'the device reports its electrode volts per code' : 'the device did not report its amplifier gain (protocol before 1.1): its series are in volts at the ADC input'));
      g.create_attribute('location', 'unspecified (not known to the rig: edit after export)');
      g.create_soft_link('/general/devices/fiberrig', 'device');
      this.electrodeRows.set(id, groups.length);
      groups.push({ name, ref: g.create_reference() });
    }
    const table = ephys.create_group('electrodes');
    typed(table, 'ElectrodesTable', NS_CORE);
    table.create_attribute('description', 'one row per aux (EEG/EMG) input recorded');
    table.create_attribute('colnames', ['location', 'group', 'group_name']);
    elementIds(table, groups.length);
    vectorData(table, 'location', groups.map(() => 'unspecified'), 'where the electrode is (not known to the rig)');
    vectorData(table, 'group', groups.map((x) => x.ref), 'the ElectrodeGroup of the input');
    vectorData(table, 'group_name', groups.map((x) => x.name), 'the name of that ElectrodeGroup');
    this.electrodesRef = table.create_reference();
  }

  private writeMetadata(): void {
    const ctx = this.ctx!;
    this.general!.create_dataset({
      name: 'data_collection',
      data: exportMetadata({
        targets: TARGET_VERSIONS, delayCompensation: compensatesDelay(this.options), series: this.seriesMeta,
        gaps: this.gaps.length, qualitySpans: this.qualitySpans.length,
        ...(this.axis ? { groupTime: {
          ...this.axis.metadata('every series and interval: regular series as starting_time + rate on the group axis (the fitted line), timestamps and intervals through the knots'),
          lineDeviationS: this.axis.lineDeviationS(), timestampsReference: 'timestamps_reference_time is the driver\'s sample 0 (estimated from this recording\'s host clock fit)',
          rateNote: 'the rate attribute is float32 (as NWB defines it); series\' rateHz here is the exact rate on the group axis',
        } } : {}),
        recordedWith: `fiberrig ${ctx.header.fiberrigVersion}`, exportedWith: `fiberrig ${FIBERRIG_VERSION}`,
        config: ctx.session?.config ?? ctx.config, processing: ctx.demodOptions ?? null, device: ctx.session?.device?.url ?? ctx.meta.device ?? null,
      }),
    });
  }

  private writeIntervals(root: H5Group): void {
    if (this.gaps.length === 0 && this.qualitySpans.length === 0) return;
    const intervals = root.create_group('intervals');
    if (this.qualitySpans.length > 0) {
      const q = intervals.create_group('quality');
      typed(q, 'TimeIntervals', NS_CORE);
      q.create_attribute('description', `spans whose samples arrived but whose demodulated signals are NaN (every configured LED dark), on ${this.clock()}`);
      q.create_attribute('colnames', ['start_time', 'stop_time', 'flag', 'label']);
      elementIds(q, this.qualitySpans.length);
      vectorData(q, 'start_time', Float64Array.from(this.qualitySpans.map((g) => this.t(g.startS))), 'span start (s)', '<d');
      vectorData(q, 'stop_time', Float64Array.from(this.qualitySpans.map((g) => this.t(g.startS + g.durationS))), 'span end (s)', '<d');
      vectorData(q, 'flag', this.qualitySpans.map((g) => g.flag), 'machine-readable flag (leds-dark)');
      vectorData(q, 'label', this.qualitySpans.map((g) => g.label), 'what happened, e.g. "LEDs dark: watchdog"');
    }
    if (this.gaps.length === 0) return;
    const t = intervals.create_group('invalid_times');
    typed(t, 'TimeIntervals', NS_CORE);
    t.create_attribute('description', `samples that never arrived (gaps), on ${this.clock()}`);
    t.create_attribute('colnames', ['start_time', 'stop_time', 'source', 'reason', 'uncertainty_s']);
    elementIds(t, this.gaps.length);
    vectorData(t, 'start_time', Float64Array.from(this.gaps.map((g) => this.t(g.start))), 'gap start (s): the first missing sample', '<d');
    vectorData(t, 'stop_time', Float64Array.from(this.gaps.map((g) => this.t(g.stop))), 'gap end (s): the first sample after the gap', '<d');
    vectorData(t, 'source', this.gaps.map((g) => g.sources.join('+')), 'which inputs lost samples: detector, aux or detector+aux');
    vectorData(t, 'reason', this.gaps.map((g) => g.reason), 'why the samples are missing (e.g. missing-blocks, reconnect)');
    vectorData(t, 'uncertainty_s', Float64Array.from(this.gaps.map((g) => g.uncertaintyS)), 'half-width (s) of the interval holding the true gap length; 0 when the device counted it', '<d');
  }

  private writeRoot(root: H5Group, summary: ReplaySummary): void {
    const ctx = this.ctx!;
    // session index 0 on the host clock: the heartbeat clock fit, else when Start was sent
    const startUs = summary.clock?.offsetUs ?? (ctx.startHostTimeUs || ctx.header.hostStartTimeUs);
    const iso = new Date(startUs / 1000).toISOString();
    root.create_dataset({ name: 'identifier', data: randomUUID() });
    root.create_dataset({ name: 'session_description', data: this.options.sessionDescription ?? `fiberrig recording${ctx.session?.subject ? ` of ${ctx.session.subject}` : ''} (${ctx.detectorIds.length} photodetectors, ${this.tableRows} channels)` });
    root.create_dataset({ name: 'session_start_time', data: iso });
    // aligned: times count from the driver's sample 0, which came g0 = t(0) driver seconds before this recording's
    const referenceIso = this.axis ? new Date((startUs - this.t(0) * 1e6) / 1000).toISOString() : iso;
    root.create_dataset({ name: 'timestamps_reference_time', data: referenceIso });
    root.create_dataset({ name: 'file_create_date', data: [new Date().toISOString()] });
  }
}

/** The NWB file's typed objects (path -> neurodata_type), for tests and `inspect`. */
export async function nwbTypedObjects(path: string): Promise<Map<string, { type: string; namespace: string }>> {
  const h5 = await h5Ready();
  const f = new h5.File(path, 'r');
  const out = new Map<string, { type: string; namespace: string }>();
  try {
    const visit = (g: H5Group | H5Dataset, p: string): void => {
      const attrs = g.attrs;
      if (attrs.neurodata_type) out.set(p || '/', { type: String(attrs.neurodata_type.value), namespace: String(attrs.namespace?.value) });
      if (g instanceof h5.Group) for (const k of g.keys()) {
        const child = g.get(k);
        if (child instanceof h5.Group || child instanceof h5.Dataset) visit(child as H5Group | H5Dataset, `${p}/${k}`);
      }
    };
    visit(f as unknown as H5Group, '');
  } finally {
    f.close();
  }
  return out;
}

export function nwbRequireSignals(ctx: ReplayContext): void {
  if (ctx.detectorIds.length === 0) throw new ExportError('E_EXPORT_NO_SIGNALS', 'the recording has no photodetectors', 'check the recording configuration (fiberrig inspect)');
}
