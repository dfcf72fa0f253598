// `fiberrig info --device URL [--json]`: what a device is, read from its
// DeviceInfo (and its calibration table when one is stored). Nothing is
// configured or started. The ids printed here are the ones acquisition
// configs name (LED channels, detectors, aux inputs, digital lines).
import type { Command } from 'commander';
import { type CalibrationTable, type DeviceInfo, formatVersion, PROTOCOL_VERSION, pb } from '../../../protocol/index.ts';
import { Rig, type RigOptions } from '../../rig/rig.ts';
import { checkDeviceUrl } from '../../transport/open.ts';
import '../devices.ts';
import type { CliIo, Runner } from '../main.ts';

export interface InfoOptions {
  device: string;
  json?: boolean;
}

export interface LedCalibrationSummary {
  channel: number;
  wavelengthNm: number;
  points: number;
  minMa: number;
  maxMa: number;
  minUw: number;
  maxUw: number;
  /** ISO date of the calibration, or null when the device stored none. */
  calibrated: string | null;
  label: string;
}

export interface DeviceInfoReport {
  device: string;
  firmware: { name: string; version: string; buildId: string };
  protocol: { device: string; host: string };
  board: { model: string; serialNumber: string };
  modes: string[];
  maxSampleRateHz: number;
  maxBlockSamples: number;
  bufferBlocks: number;
  timerClockHz: number;
  maxFrameBytes: number;
  maxMessageBytes: number;
  leds: Array<{ channel: number; wavelengthNm: number; maxCurrentContinuousMa: number; maxCurrentPulsedMa: number; driver: string; dacBits: number; calibrated: boolean }>;
  detectors: Array<{ id: number; label: string; adcBits: number; fullScaleV: number; maxRateHz: number }>;
  auxInputs: Array<{ id: number; label: string; adcBits: number; fullScaleV: number; maxRateHz: number }>;
  digitalLines: Array<{ id: number; label: string; direction: string }>;
  calibration: { stored: boolean; leds: LedCalibrationSummary[]; error?: string };
}

/** "LED_DRIVER_KIND_DAC_CURRENT" -> "dac-current" (prefix: "LED_DRIVER_KIND_"). */
function enumName(names: Record<number, string>, value: number | undefined, prefix: string): string {
  const name = names[value ?? 0];
  return name ? name.replace(prefix, '').toLowerCase().replace(/_/g, '-') : `unknown (${value})`;
}

function calibrationSummary(table: CalibrationTable): LedCalibrationSummary[] {
  return (table.leds ?? []).map((led) => {
    const points = led.points ?? [];
    const ma = points.map((p) => p.currentMa ?? 0);
    const uw = points.map((p) => p.powerUw ?? 0);
    const unixS = Number(led.calibratedUnixS ?? 0);
    return {
      channel: led.channel ?? 0, wavelengthNm: led.wavelengthNm ?? 0, points: points.length,
      minMa: Math.min(...ma), maxMa: Math.max(...ma), minUw: Math.min(...uw), maxUw: Math.max(...uw),
      calibrated: unixS > 0 ? new Date(unixS * 1000).toISOString() : null, label: led.label ?? '',
    };
  });
}

export function deviceInfoReport(device: string, info: DeviceInfo, calibration: DeviceInfoReport['calibration']): DeviceInfoReport {
  const modeNames = pb.ModulationMode as unknown as Record<number, string>;
  return {
    device,
    firmware: { name: info.firmwareName, version: info.firmwareVersion, buildId: info.buildId },
    protocol: { device: info.protocol ? formatVersion(info.protocol) : 'none', host: formatVersion(PROTOCOL_VERSION) },
    board: { model: info.boardModel, serialNumber: info.serialNumber },
    modes: info.modes.map((m) => enumName(modeNames, m, 'MODULATION_MODE_')),
    maxSampleRateHz: info.maxSampleRateHz, maxBlockSamples: info.maxBlockSamples, bufferBlocks: info.bufferBlocks,
    timerClockHz: info.timerClockHz, maxFrameBytes: info.maxFrameBytes, maxMessageBytes: info.maxMessageBytes,
    leds: info.leds.map((l) => ({
      channel: l.id, wavelengthNm: l.wavelengthNm, maxCurrentContinuousMa: l.maxCurrentContinuousMa, maxCurrentPulsedMa: l.maxCurrentPulsedMa,
      driver: enumName(pb.LedDriverKind as unknown as Record<number, string>, l.driver, 'LED_DRIVER_KIND_'), dacBits: l.dacBits, calibrated: l.calibrated,
    })),
    detectors: info.detectors.map((d) => ({ id: d.id, label: d.label, adcBits: d.adcBits, fullScaleV: d.fullScaleV, maxRateHz: d.maxRateHz })),
    auxInputs: info.auxInputs.map((a) => ({ id: a.id, label: a.label, adcBits: a.adcBits, fullScaleV: a.fullScaleV, maxRateHz: a.maxRateHz })),
    digitalLines: info.digitalLines.map((d) => ({ id: d.id, label: d.label, direction: enumName(pb.DigitalDirection as unknown as Record<number, string>, d.direction, 'DIGITAL_DIRECTION_') })),
    calibration,
  };
}

const num = (v: number): string => Number(v.toPrecision(4)).toString();

export function formatDeviceInfo(r: DeviceInfoReport): string {
  const lines = [
    `device      ${r.device}`,
    `firmware    ${r.firmware.name} ${r.firmware.version}${r.firmware.buildId ? ` (build ${r.firmware.buildId})` : ''}`,
    `protocol    ${r.protocol.device} (this host speaks ${r.protocol.host})`,
    `board       ${r.board.model} #${r.board.serialNumber}`,
    `modes       ${r.modes.join(', ')}`,
    `sampling    up to ${r.maxSampleRateHz} Hz per detector, blocks of up to ${r.maxBlockSamples} samples, ${r.bufferBlocks}-block buffer, timer ${r.timerClockHz} Hz`,
    `frames      up to ${r.maxFrameBytes} B on the wire, messages up to ${r.maxMessageBytes} B`,
  ];
  for (const l of r.leds) lines.push(`LED ${l.channel}       ${l.wavelengthNm} nm, up to ${num(l.maxCurrentContinuousMa)} mA continuous / ${num(l.maxCurrentPulsedMa)} mA pulsed, ${l.driver} ${l.dacBits}-bit${l.calibrated ? ', calibrated' : ''}`);
  for (const d of r.detectors) lines.push(`detector ${d.id}  ${d.label || `PD${d.id}`}, ${d.adcBits}-bit over ${num(d.fullScaleV)} V, up to ${d.maxRateHz} Hz`);
  for (const a of r.auxInputs) lines.push(`aux ${a.id}       ${a.label || `aux${a.id}`}, ${a.adcBits}-bit over ${num(a.fullScaleV)} V, up to ${a.maxRateHz} Hz`);
  for (const d of r.digitalLines) lines.push(`digital ${d.id}   ${d.label || `line ${d.id}`}, ${d.direction}`);
  if (!r.calibration.stored) lines.push('calibration none stored (LED drives in mA only; `fiberrig calibrate` stores one)');
  else if (r.calibration.error) lines.push(`calibration stored, but could not be read: ${r.calibration.error}`);
  else {
    lines.push(`calibration ${r.calibration.leds.length} LED(s)`);
    for (const c of r.calibration.leds) {
      lines.push(`  LED ${c.channel} (${c.wavelengthNm} nm): ${c.points} points, ${num(c.minMa)}..${num(c.maxMa)} mA -> ${num(c.minUw)}..${num(c.maxUw)} µW${c.calibrated ? `, ${c.calibrated}` : ''}${c.label ? `, ${c.label}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function infoCommand(io: CliIo, opts: InfoOptions, rigOptions: RigOptions = {}): Promise<number> {
  if (!rigOptions.openTransport) checkDeviceUrl(opts.device);
  const rig = await Rig.connect(opts.device, rigOptions);
  try {
    const info = rig.info;
    let calibration: DeviceInfoReport['calibration'] = { stored: info.calibrationStored, leds: [] };
    if (info.calibrationStored) {
      try {
        calibration = { stored: true, leds: calibrationSummary(await rig.readCalibration()) };
      } catch (error) {
        calibration = { stored: true, leds: [], error: (error as Error).message };
      }
    }
    const report = deviceInfoReport(opts.device, info, calibration);
    io.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatDeviceInfo(report));
    return 0;
  } finally {
    await rig.close().catch(() => undefined);
  }
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .requiredOption('--device <url>', 'serial path (/dev/ttyACM0?baud=…), sim://SCENARIO, or tcp://HOST:PORT')
    .option('--json', 'print JSON on stdout')
    .action((opts: InfoOptions) => run(() => infoCommand(io, opts))());
}
