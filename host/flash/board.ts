// Board definitions as data (hardware/boards/NAME.json), shared with the
// firmware build: the host reads them for its early checks (LED current
// limits, DAC scaling) and `fiberrig flash` for the model, DFU identity and
// the BOOT0 instructions.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlashError } from './errors.ts';

export const BOARDS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'hardware', 'boards');

export interface BoardLed {
  id: number;
  label: string;
  wavelengthNm: number;
  pin: string;
  port: string;
  dac: number;
  dacBits: number;
  dacOffsetCodes: number;
  dacCodesPerMa: number;
  maxCurrentContinuousMa: number;
  maxCurrentPulsedMa: number;
}

export interface BoardDetector {
  id: number;
  label: string;
  pin: string;
  port: string;
  adcChannel: number;
  adcBits: number;
  oversampledBits: number;
  fullScaleV: number;
}

export interface BoardDigital {
  id: number;
  label: string;
  direction: 'input' | 'output';
  pin: string;
  port: string;
  timer: string;
}

/** An EEG/EMG input: its ADC and the amplifier in front of it (DeviceInfo reports electrode volts per code from them). */
export interface BoardAux {
  id: number;
  label: string;
  adcBits: number;
  /** ADC input span: signed codes cover -fullScaleV/2 .. +fullScaleV/2. */
  fullScaleV: number;
  maxRateHz: number;
  /** Amplifier gain, volts at the ADC per volt at the electrode. */
  gainVPerV: number;
}

export interface BoardDefinition {
  name: string;
  model: string;
  mcu: string;
  memory: { flashBytes: number; sramBytes: number; ccmBytes: number; calibrationSectors: Array<{ index: number; address: string; bytes: number }> };
  clock: { hseHz: number; sysclkHz: number; pll: { m: number; n: number; p: number; q: number }; apb1TimerHz: number; apb2TimerHz: number };
  usb: { vid: string; dfuPid: string; dfuFlashLayout: string; cdcPath: string };
  link: { usart: { instance: string; tx: { pin: string; port: string }; rx: { pin: string; port: string }; baud: number } };
  leds: BoardLed[];
  detectors: BoardDetector[];
  /** Aux (EEG/EMG) inputs; absent or empty when the board has none. */
  aux?: BoardAux[];
  digital: BoardDigital[];
  /** What the firmware's timers and DAC tables can do exactly (the device rejects configs beyond them). */
  timing: { sampleClockHz: number; maxDrivePeriodSamples: number; maxSyncPeriodSamples: number; maxScanRateHz: number };
  bootloader: { boot0: string };
}

function fail(source: string, what: string): never {
  throw new FlashError('E_FLASH_BOARD_DEF', `board definition ${source}: ${what}`, 'fix the JSON (see hardware/boards/pyboard.json for the shape)');
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (o: Record<string, unknown>, k: string, source: string): number => {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(source, `${k} must be a finite number`);
  return v;
};
const str = (o: Record<string, unknown>, k: string, source: string): string => {
  const v = o[k];
  if (typeof v !== 'string' || v === '') fail(source, `${k} must be a non-empty string`);
  return v;
};

/** Checks the parts of a definition the host relies on; returns it typed. */
export function parseBoard(data: unknown, source: string): BoardDefinition {
  if (!isObj(data)) fail(source, 'not a JSON object');
  str(data, 'name', source);
  str(data, 'model', source);
  for (const key of ['memory', 'clock', 'usb', 'link', 'timing', 'bootloader']) if (!isObj(data[key])) fail(source, `${key} must be an object`);
  for (const key of ['leds', 'detectors', 'digital']) if (!Array.isArray(data[key])) fail(source, `${key} must be an array`);
  const clock = data['clock'] as Record<string, unknown>;
  const pll = clock['pll'];
  if (!isObj(pll)) fail(source, 'clock.pll must be an object');
  const vco = (num(clock, 'hseHz', source) / num(pll, 'm', source)) * num(pll, 'n', source);
  if (Math.abs(vco / num(pll, 'p', source) - num(clock, 'sysclkHz', source)) > 1) fail(source, 'clock.pll does not give clock.sysclkHz from clock.hseHz');
  const leds = data['leds'] as unknown[];
  const ids = new Set<number>();
  leds.forEach((led, i) => {
    if (!isObj(led)) fail(source, `leds[${i}] must be an object`);
    const id = num(led, 'id', source);
    if (ids.has(id)) fail(source, `leds[${i}].id ${id} is repeated`);
    ids.add(id);
    num(led, 'wavelengthNm', source);
    const bits = num(led, 'dacBits', source);
    const perMa = num(led, 'dacCodesPerMa', source);
    if (!(perMa > 0)) fail(source, `leds[${i}].dacCodesPerMa must be > 0`);
    const maxCode = num(led, 'dacOffsetCodes', source) + perMa * Math.max(num(led, 'maxCurrentContinuousMa', source), num(led, 'maxCurrentPulsedMa', source));
    if (maxCode > 2 ** bits - 1) fail(source, `leds[${i}] current limit needs DAC code ${maxCode.toFixed(0)} > ${2 ** bits - 1}`);
  });
  (data['detectors'] as unknown[]).forEach((d, i) => {
    if (!isObj(d)) fail(source, `detectors[${i}] must be an object`);
    num(d, 'adcBits', source);
    num(d, 'fullScaleV', source);
  });
  if (data['aux'] !== undefined) {
    if (!Array.isArray(data['aux'])) fail(source, 'aux must be an array');
    (data['aux'] as unknown[]).forEach((a, i) => {
      if (!isObj(a)) fail(source, `aux[${i}] must be an object`);
      num(a, 'adcBits', source);
      if (!(num(a, 'fullScaleV', source) > 0)) fail(source, `aux[${i}].fullScaleV must be > 0`);
      if (!(num(a, 'gainVPerV', source) > 0)) fail(source, `aux[${i}].gainVPerV must be > 0 (volts at the ADC per volt at the electrode)`);
    });
  }
  return data as unknown as BoardDefinition;
}

/** Loads a board by name (hardware/boards/NAME.json) or by a path to a JSON file. */
export function loadBoard(nameOrPath: string, boardsDir: string = BOARDS_DIR): BoardDefinition {
  const file = nameOrPath.endsWith('.json') ? resolve(nameOrPath) : join(boardsDir, `${nameOrPath}.json`);
  if (!/^[\w.-]+$/.test(nameOrPath) && !nameOrPath.endsWith('.json')) fail(nameOrPath, 'not a board name');
  if (!existsSync(file)) {
    throw new FlashError('E_FLASH_BOARD_DEF', `no board definition "${nameOrPath}" (${file})`, 'use --board pyboard, or give a path to a board JSON file');
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new FlashError('E_FLASH_BOARD_DEF', `board definition ${file} is not valid JSON`, 'fix the JSON syntax', { cause: error });
  }
  return parseBoard(data, file);
}

/** The DAC code for a current on an LED channel (the board's published scaling), or a typed error past its limit. */
export function ledDacCode(board: BoardDefinition, ledId: number, ma: number, pulsed = false): number {
  const led = board.leds.find((l) => l.id === ledId);
  if (!led) throw new FlashError('E_FLASH_USAGE', `board ${board.name} has no LED ${ledId}`, `LEDs: ${board.leds.map((l) => l.id).join(', ')}`);
  const limit = pulsed ? led.maxCurrentPulsedMa : led.maxCurrentContinuousMa;
  if (!(ma >= 0 && ma <= limit)) throw new FlashError('E_FLASH_USAGE', `${ma} mA on LED ${ledId} (${led.wavelengthNm} nm) is outside 0..${limit} mA`, 'lower the current, or raise the limit in the board definition if your driver allows it');
  if (ma === 0) return 0;
  return Math.min(2 ** led.dacBits - 1, Math.round(led.dacOffsetCodes + led.dacCodesPerMa * ma));
}
