// `fiberrig calibrate`: LED power calibration for technicians (mA -> µW at the
// fiber tip), per unit, stored on the device and on disk, and `--check` for
// drift against the stored table. Progress, prompts and plots on stderr; the
// result on stdout (JSON with --json). Exit status: 0 done / check passed,
// 1 poor fit (not written unless --force) / check failed, 2 aborted (nothing
// written).
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { FiberrigError } from '../../../protocol/index.ts';
import { CalibrationAborted, CalibrationError } from '../../calibration/errors.ts';
import type { SettleOptions } from '../../calibration/meter.ts';
import { type ChosenMeter, chooseMeter, type MeterInfo, type PowerMeter } from '../../calibration/meters.ts';
import { calibrationPlan, DEFAULT_POINTS } from '../../calibration/plan.ts';
import { svgPlot, terminalPlot } from '../../calibration/plot.ts';
import {
  buildCalibration, type CalibrationEvent, checkDrift, ledInfo, measureSteps, type PointSource, writeLedCalibration,
} from '../../calibration/procedure.ts';
import { calibrationFileOf, parseLabel, saveCalibration, saveCheck } from '../../calibration/store.ts';
import { Rig, type RigOptions } from '../../rig/rig.ts';
import { checkDeviceUrl } from '../../transport/open.ts';
import '../devices.ts'; // registers sim:// devices and the simulator's meter (--meter sim)
import type { CliIo, Runner } from '../main.ts';

export interface CalibrateOptions {
  device: string;
  led: string;
  meter?: string;
  points?: string;
  check?: boolean;
  operator?: string;
  label?: string;
  out?: string;
  maxMa?: string;
  threshold?: string;
  force?: boolean;
  json?: boolean;
}

export interface CalibrateIo extends CliIo {
  /** Where the manual meter's readings are typed (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

/** Programmatic knobs (tests): how instruments are polled. */
export interface CalibrateInternals {
  rig?: RigOptions;
  settle?: SettleOptions;
}

const usage = (message: string, hint: string): FiberrigError => new FiberrigError('E_USAGE', message, hint);

function intOption(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < min) throw usage(`${name} "${text}" is not an integer >= ${min}`, `e.g. ${name} ${Math.max(min, fallback)}`);
  return v;
}

function numberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text.replace(/%$/, ''));
  if (text.trim() === '' || !Number.isFinite(v) || v <= 0) throw usage(`${name} "${text}" is not a positive number`, `e.g. ${name} 10`);
  return v;
}

/** Lines typed on `input`, one per ask(); null once input ends. */
function lineReader(input: NodeJS.ReadableStream): { next(): Promise<string | null>; cancel(): void; close(): void } {
  const rl = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
  const lines: string[] = [];
  let waiter: ((line: string | null) => void) | null = null;
  let ended = false;
  const deliver = (line: string | null): void => {
    const w = waiter;
    waiter = null;
    w?.(line);
  };
  rl.on('line', (line) => {
    if (waiter) deliver(line);
    else lines.push(line);
  });
  rl.on('close', () => {
    ended = true;
    deliver(null);
  });
  return {
    next: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      if (ended) return Promise.resolve(null);
      return new Promise((done) => { waiter = done; });
    },
    cancel: () => deliver(null),
    close: () => rl.close(),
  };
}

const pct = (v: number, digits = 2): string => `${(v * 100).toFixed(digits)} %`;
const num = (v: number): string => Number(v.toPrecision(4)).toString();

export async function calibrateCommand(io: CalibrateIo, opts: CalibrateOptions, internals: CalibrateInternals = {}): Promise<number> {
  const channel = intOption('--led', opts.led, 0, 0);
  const meterSpec = (opts.meter ?? 'manual').trim();
  const points = intOption('--points', opts.points, opts.check ? 3 : DEFAULT_POINTS, 1);
  const thresholdPct = numberOption('--threshold', opts.threshold) ?? 10;
  const maxMaOption = numberOption('--max-ma', opts.maxMa);
  // every argument is read before the device is opened
  const chosen: ChosenMeter | undefined = meterSpec === 'manual' ? undefined : chooseMeter(meterSpec, opts.device);
  if (!internals.rig?.openTransport) checkDeviceUrl(opts.device);
  const outDir = resolve(opts.out ?? 'calibrations');
  const operator = opts.operator ?? null;
  const label = opts.label ?? '';
  const err = (line: string): void => {
    io.stderr.write(`${line}\n`);
  };

  const abort = new AbortController();
  let reader: ReturnType<typeof lineReader> | undefined;
  const onSignal = (): void => {
    abort.abort();
    reader?.cancel();
  };
  process.once('SIGINT', onSignal);
  let rig: Rig | undefined;
  let instrument: PowerMeter | undefined;
  try {
    rig = await Rig.connect(opts.device, internals.rig ?? {});
    const info = rig.info;
    const led = ledInfo(info, channel);
    const maxMa = maxMaOption ?? led.maxCurrentContinuousMa;
    if (maxMa > led.maxCurrentContinuousMa) {
      throw usage(`--max-ma ${maxMa} exceeds LED ${channel}'s continuous limit ${led.maxCurrentContinuousMa} mA`, 'calibration drives the LED continuously; stay within the continuous limit');
    }

    let source: PointSource;
    let meterInfo: MeterInfo;
    if (!chosen) {
      const lines = lineReader(io.stdin ?? process.stdin);
      reader = lines;
      source = {
        kind: 'manual',
        ask: (prompt) => {
          if (abort.signal.aborted) return Promise.resolve(null);
          io.stderr.write(prompt);
          return lines.next();
        },
        tell: err,
      };
      meterInfo = { kind: 'manual', model: 'manual entry', serialNumber: '' };
      err(`Put the fiber tip on the power meter sensor, set the meter to ${led.wavelengthNm} nm and zero it with the LED off.`);
      err('At each prompt type the reading in µW once it has settled (or with a unit: 0.8 mW, 350 nW).');
    } else {
      instrument = await chosen.open();
      source = { kind: 'instrument', meter: instrument, ...(internals.settle ? { settle: internals.settle } : {}) };
      meterInfo = instrument.info;
      err(`meter: ${meterInfo.model}${meterInfo.serialNumber ? ` (${meterInfo.serialNumber})` : ''}`);
    }

    const onEvent = (e: CalibrationEvent): void => {
      switch (e.type) {
        case 'dark':
          err(`  dark reading ${num(e.powerUw)} µW${e.settled ? '' : ' (not settled)'} (subtracted)`);
          break;
        case 'point':
          if (source.kind === 'instrument') err(`  ${e.point.index + 1}/${e.of}  ${e.point.currentMa.toFixed(2)} mA  ${num(e.point.powerUw)} µW  ${e.point.sweep}${e.point.settled ? '' : '  NOT SETTLED'}`);
          break;
        case 'undo':
          err(`  undone: back to ${e.step.currentMa.toFixed(2)} mA (r restores the value)`);
          break;
        case 'redo':
          err(`  redone: ${e.point.currentMa.toFixed(2)} mA = ${num(e.point.powerUw)} µW`);
          break;
        case 'nothing-to-undo':
          err('  nothing to undo');
          break;
        case 'nothing-to-redo':
          err('  nothing to redo here');
          break;
        default:
      }
    };
    const measureOptions = { onEvent, signal: abort.signal };
    const device = { url: opts.device, serialNumber: info.serialNumber, boardModel: info.boardModel, firmware: `${info.firmwareName} ${info.firmwareVersion}` };
    const date = new Date();

    if (opts.check) {
      err(`checking LED ${channel} (${led.wavelengthNm} nm) of ${info.serialNumber} against its stored calibration at ${points} point(s), threshold ${thresholdPct} %`);
      const check = await checkDrift(rig, channel, source, { points, thresholdRelative: thresholdPct / 100 }, measureOptions);
      err('     mA   measured µW   stored µW    drift');
      for (const p of check.points) err(`${p.currentMa.toFixed(2).padStart(7)} ${num(p.measuredUw).padStart(13)} ${num(p.expectedUw).padStart(11)} ${pct(p.driftRelative).padStart(9)}`);
      const history = await saveCheck(outDir, info.serialNumber, check, meterInfo, operator, date);
      if (opts.json) io.stdout.write(`${JSON.stringify({ ...check, meter: meterInfo, history })}\n`);
      else io.stdout.write(`LED ${channel} drift check ${check.pass ? 'PASS' : 'FAIL'}: largest drift ${pct(check.maxAbsDriftRelative)} (threshold ${thresholdPct} %)${check.pass ? '' : ': recalibrate (fiberrig calibrate) and check the LED, cube and patch cord'}\n`);
      return check.pass ? 0 : 1;
    }

    const steps = calibrationPlan(maxMa, points);
    err(`calibrating LED ${channel} (${led.wavelengthNm} nm) of ${info.serialNumber}: ${steps.length} readings up to ${maxMa} mA (up, down, and one repeat)`);
    const measured = await measureSteps(rig, channel, steps, source, measureOptions);
    const result = buildCalibration(info, channel, measured, { label, calibratedUnixS: Math.floor(date.getTime() / 1000) });
    const title = `LED ${channel} (${led.wavelengthNm} nm), ${info.serialNumber}${label ? `, ${label}` : ''}, ${date.toISOString()}`;
    const plotInput = { title, fit: result.fit, table: result.entry.points ?? [], sweeps: result.points.map((p) => p.sweep) };
    err(terminalPlot(plotInput));
    const m = result.fit.model;
    err(`fit: threshold ${num(m.thresholdMa)} mA, slope ${num(m.slopeUwPerMa)} µW/mA, droop ${num(m.droopPerMa)} /mA; R² ${result.fit.r2.toFixed(6)}, rms residual ${pct(result.fit.rmsRelative)}, largest ${pct(result.fit.maxRelative)}`);
    for (const i of result.fit.outliers) {
      const r = result.fit.residuals[i]!;
      err(`bad point: ${r.currentMa.toFixed(2)} mA read ${num(r.powerUw)} µW, ${pct(r.relative)} off the fit: left out`);
    }
    for (const w of result.drift.warnings) err(`warning: ${w}`);
    const poor = result.fit.poor;
    if (poor) err(`POOR FIT: ${result.fit.reasons.join('; ')}${opts.force ? ' (written anyway: --force)' : ': not written to the device (remeasure, or --force)'}`);
    const write = !poor || Boolean(opts.force);
    if (write) await writeLedCalibration(rig, result.entry);
    const file = calibrationFileOf({
      date, operator, device, led: { channel, wavelengthNm: led.wavelengthNm, label, identifiers: parseLabel(label) }, meter: meterInfo,
      plan: { points, maxMa }, result, writtenToDevice: write, forced: poor && write, plot: '',
    });
    const saved = await saveCalibration(outDir, file, svgPlot(plotInput), date);
    err(`plot: ${saved.svg}`);
    if (opts.json) {
      io.stdout.write(`${JSON.stringify({ file: saved.json, svg: saved.svg, history: saved.history, writtenToDevice: write, table: result.entry, fit: file.fit, drift: result.drift })}\n`);
    } else {
      io.stdout.write(`LED ${channel} (${led.wavelengthNm} nm) of ${info.serialNumber}: ${num(file.rangeUw.minUw)}..${num(file.rangeUw.maxUw)} µW over ${num(result.fit.rangeMa.minMa)}..${num(result.fit.rangeMa.maxMa)} mA, R² ${result.fit.r2.toFixed(6)}, largest residual ${pct(result.fit.maxRelative)}; ${write ? 'written to the device' : 'NOT written to the device'}; ${saved.json}\n`);
    }
    return write ? 0 : 1;
  } catch (error) {
    if (error instanceof CalibrationAborted || (error instanceof CalibrationError && error.code === 'E_CALIBRATION_ABORTED')) {
      err('aborted: nothing was written to the device or to disk');
      return 2;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    reader?.close();
    await instrument?.close().catch(() => undefined);
    await rig?.close().catch(() => undefined);
  }
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .requiredOption('--device <url>', 'serial path, sim://SCENARIO?…, or tcp://HOST:PORT')
    .requiredOption('--led <channel>', 'LED channel id')
    .option('--meter <meter>', 'manual (type readings), sim (the simulator\'s meter), or scpi:PATH[?baud=N] (a SCPI power meter)', 'manual')
    .option('--points <n>', `currents to measure (default ${DEFAULT_POINTS}; --check: 3)`)
    .option('--max-ma <mA>', 'top current (default: the LED\'s continuous limit)')
    .option('--check', 'measure a few points and report drift against the stored table (exit 1 past --threshold)')
    .option('--threshold <percent>', 'drift that fails --check', '10')
    .option('--operator <name>', 'who calibrated (stored in the calibration file)')
    .option('--label <ids>', 'LED / filter cube / patch cord identifiers, e.g. led=M470F3,cube=FMC5,cord=P12')
    .option('--out <dir>', 'calibration files and per-unit history', 'calibrations')
    .option('--force', 'write the table to the device even when the fit is poor')
    .option('--json', 'print the result as JSON on stdout')
    .action((opts: CalibrateOptions) => run(() => calibrateCommand(io, opts))());
}
