// Board definitions: what a (simulated) fiberrig board has and what its
// limits are. The simulated firmware takes one in its constructor, enforces
// its limits and describes it in DeviceInfo.
import {
  CRC_BYTES, cobsMaxEncodedBytes, DigitalDirection, type DeviceInfoInit, LedDriverKind, MAX_MESSAGE_BYTES, ModulationMode, PROTOCOL_VERSION, SampleFormat,
} from '../../protocol/index.ts';
import type { WorldBoard } from '../world/world.ts';
import { SimError } from './errors.ts';

export interface LedChannelDef {
  id: number;
  wavelengthNm: number;
  /** Limit for CONTINUOUS levels, LOCK_IN peaks and the average current of TIME_DIVISION pulses. */
  maxCurrentContinuousMa: number;
  /** Limit for TIME_DIVISION pulse peaks. */
  maxCurrentPulsedMa: number;
  dacBits: number;
  driver: number;
}

export interface DetectorDef {
  id: number;
  adcBits: number;
  fullScaleV: number;
  maxRateHz: number;
  label: string;
}

export interface AuxInputDef {
  id: number;
  label: string;
  adcBits: number;
  /** ADC input span: signed codes cover -fullScaleV/2 .. +fullScaleV/2 at the ADC pin. */
  fullScaleV: number;
  maxRateHz: number;
  /** Amplifier gain, volts at the ADC per volt at the electrode (reported as electrode volts per code). */
  gainVPerV: number;
}

export interface DigitalLineDef {
  id: number;
  direction: 'input' | 'output';
  label: string;
}

export interface BoardDefinition {
  model: string;
  firmwareName: string;
  firmwareVersion: string;
  buildId: string;
  serialNumber: string;
  leds: readonly LedChannelDef[];
  detectors: readonly DetectorDef[];
  auxInputs: readonly AuxInputDef[];
  digitalLines: readonly DigitalLineDef[];
  modes: readonly number[];
  /** Per detector; every configured detector is sampled at the same rate. */
  maxSampleRateHz: number;
  /** Conversions per second one detector's ADC can make (sample rate x oversampling). */
  maxConversionRateHz: number;
  maxOversampling: number;
  /** Tick rate of DigitalEvent.subsample_ticks. */
  timerClockHz: number;
  maxBlockSamples: number;
  /** Device ring buffer capacity, in sample blocks (detector and aux share it). */
  bufferBlocks: number;
  /** Largest encoded Envelope the device accepts or sends (DeviceInfo.max_message_bytes; max_frame_bytes is its frame). */
  maxMessageBytes: number;
  /** SampleBlock.samples byte bound of the C firmware (nanopb max_size). */
  maxSampleBytes: number;
  /** Format of detector blocks: unipolar photodetector codes 0..2^bits-1. */
  detectorFormat: number;
  /** Format of aux blocks: bipolar EEG/EMG codes, two's complement. */
  auxFormat: number;
  defaultHeartbeatTimeoutMs: number;
  defaultStatusIntervalMs: number;
  /** Board temperature with every LED dark, degrees Celsius (Status.temperature_c). */
  ambientTemperatureC: number;
}

/**
 * The default simulated board: four LEDs (405 isosbestic, 470 green sensor,
 * 560 red, 630 far red) behind 12-bit DAC current sources, two 16-bit
 * photodetector channels, EEG and EMG aux inputs, two TTL inputs and one sync
 * output, modelled on an STM32F4 at 84 MHz timer clock.
 */
export const DEFAULT_BOARD: BoardDefinition = Object.freeze({
  model: 'fiberrig-sim-4x2',
  firmwareName: 'fiberrig-sim',
  firmwareVersion: '0.1.0',
  buildId: 'sim',
  serialNumber: 'SIM-0001',
  leds: Object.freeze([
    { id: 0, wavelengthNm: 405, maxCurrentContinuousMa: 50, maxCurrentPulsedMa: 100, dacBits: 12, driver: LedDriverKind.LED_DRIVER_KIND_SIMULATED },
    { id: 1, wavelengthNm: 470, maxCurrentContinuousMa: 50, maxCurrentPulsedMa: 100, dacBits: 12, driver: LedDriverKind.LED_DRIVER_KIND_SIMULATED },
    { id: 2, wavelengthNm: 560, maxCurrentContinuousMa: 50, maxCurrentPulsedMa: 100, dacBits: 12, driver: LedDriverKind.LED_DRIVER_KIND_SIMULATED },
    { id: 3, wavelengthNm: 630, maxCurrentContinuousMa: 50, maxCurrentPulsedMa: 100, dacBits: 12, driver: LedDriverKind.LED_DRIVER_KIND_SIMULATED },
  ]),
  detectors: Object.freeze([
    { id: 0, adcBits: 16, fullScaleV: 3.3, maxRateHz: 20_000, label: 'PD0' },
    { id: 1, adcBits: 16, fullScaleV: 3.3, maxRateHz: 20_000, label: 'PD1' },
  ]),
  auxInputs: Object.freeze([
    { id: 0, label: 'EEG', adcBits: 16, fullScaleV: 3.3, maxRateHz: 2_000, gainVPerV: 1000 },
    { id: 1, label: 'EMG', adcBits: 16, fullScaleV: 3.3, maxRateHz: 2_000, gainVPerV: 1000 },
  ]),
  digitalLines: Object.freeze([
    { id: 0, direction: 'input', label: 'TTL0' },
    { id: 1, direction: 'input', label: 'TTL1' },
    { id: 2, direction: 'output', label: 'SYNC' },
  ]),
  modes: Object.freeze([
    ModulationMode.MODULATION_MODE_CONTINUOUS, ModulationMode.MODULATION_MODE_TIME_DIVISION, ModulationMode.MODULATION_MODE_LOCK_IN,
  ]),
  maxSampleRateHz: 20_000,
  maxConversionRateHz: 1_000_000,
  maxOversampling: 64,
  timerClockHz: 84_000_000,
  maxBlockSamples: 1024,
  bufferBlocks: 32,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  maxSampleBytes: 4096,
  detectorFormat: SampleFormat.SAMPLE_FORMAT_UINT16_LE,
  auxFormat: SampleFormat.SAMPLE_FORMAT_INT16_LE,
  defaultHeartbeatTimeoutMs: 2000,
  defaultStatusIntervalMs: 500,
  ambientTemperatureC: 25,
}) as BoardDefinition;

/** A copy of `base` with some fields replaced (e.g. a unit's serial number, or a smaller buffer for a test). */
export function defineBoard(overrides: Partial<BoardDefinition>, base: BoardDefinition = DEFAULT_BOARD): BoardDefinition {
  const board = { ...base, ...overrides };
  checkBoard(board);
  return board;
}

function unique(ids: number[], what: string): void {
  if (new Set(ids).size !== ids.length) throw new SimError('E_SIM_BOARD', `board has duplicate ${what} ids`, 'give every channel of one kind its own id');
}

/** Throws SimError when a board definition is inconsistent. */
export function checkBoard(board: BoardDefinition): void {
  unique(board.leds.map((l) => l.id), 'LED');
  unique(board.detectors.map((d) => d.id), 'detector');
  unique(board.auxInputs.map((a) => a.id), 'aux input');
  unique(board.digitalLines.map((d) => d.id), 'digital line');
  if (board.detectors.length === 0) throw new SimError('E_SIM_BOARD', 'board has no detector', 'a board needs at least one photodetector');
  for (const a of board.auxInputs) {
    if (!(Number.isFinite(a.gainVPerV) && a.gainVPerV > 0)) {
      throw new SimError('E_SIM_BOARD', `aux input ${a.label} has gain ${a.gainVPerV}`, 'give every aux input its amplifier gain (V at the ADC per V at the electrode), > 0');
    }
  }
  for (const d of [...board.detectors, ...board.auxInputs]) {
    if (d.adcBits < 1 || d.adcBits > 16) throw new SimError('E_SIM_BOARD', `ADC of ${d.label} has ${d.adcBits} bits`, 'the simulator packs samples as 16-bit codes: use 1..16 bits');
  }
  if (!(board.maxBlockSamples >= 1) || !(board.bufferBlocks >= 1) || !(board.maxSampleRateHz >= 1)) {
    throw new SimError('E_SIM_BOARD', 'board limits must be positive', 'set maxBlockSamples, bufferBlocks and maxSampleRateHz >= 1');
  }
}

export function ledDef(board: BoardDefinition, id: number): LedChannelDef | undefined {
  return board.leds.find((l) => l.id === id);
}

/** The world's view of a board. */
export function worldBoardOf(board: BoardDefinition): WorldBoard {
  return {
    leds: board.leds.map((l) => ({ id: l.id, wavelengthNm: l.wavelengthNm })),
    detectors: board.detectors.map((d) => ({ id: d.id, adcBits: d.adcBits, fullScaleV: d.fullScaleV })),
    aux: board.auxInputs.map((a) => ({ id: a.id, label: a.label, adcBits: a.adcBits, fullScaleV: a.fullScaleV, gainVPerV: a.gainVPerV })),
    digitalInputs: board.digitalLines.filter((d) => d.direction === 'input').map((d) => ({ id: d.id })),
  };
}

/** DeviceInfo for `board`; `calibratedChannels` are the LED ids with a stored calibration. */
export function deviceInfoOf(board: BoardDefinition, calibratedChannels: ReadonlySet<number>): DeviceInfoInit {
  return {
    protocol: { major: PROTOCOL_VERSION.major, minor: PROTOCOL_VERSION.minor },
    firmwareName: board.firmwareName,
    firmwareVersion: board.firmwareVersion,
    buildId: board.buildId,
    boardModel: board.model,
    serialNumber: board.serialNumber,
    leds: board.leds.map((l) => ({
      id: l.id, wavelengthNm: l.wavelengthNm, maxCurrentContinuousMa: l.maxCurrentContinuousMa, maxCurrentPulsedMa: l.maxCurrentPulsedMa,
      driver: l.driver, dacBits: l.dacBits, calibrated: calibratedChannels.has(l.id),
    })),
    detectors: board.detectors.map((d) => ({ id: d.id, adcBits: d.adcBits, fullScaleV: d.fullScaleV, maxRateHz: d.maxRateHz, label: d.label })),
    auxInputs: board.auxInputs.map((a) => ({
      id: a.id, label: a.label, adcBits: a.adcBits, fullScaleV: a.fullScaleV, maxRateHz: a.maxRateHz,
      electrodeVoltsPerCode: auxElectrodeVoltsPerCode(a),
    })),
    digitalLines: board.digitalLines.map((d) => ({
      id: d.id, label: d.label,
      direction: d.direction === 'input' ? DigitalDirection.DIGITAL_DIRECTION_INPUT : DigitalDirection.DIGITAL_DIRECTION_OUTPUT,
    })),
    modes: [...board.modes],
    maxFrameBytes: cobsMaxEncodedBytes(board.maxMessageBytes + CRC_BYTES),
    maxMessageBytes: board.maxMessageBytes,
    calibrationStored: calibratedChannels.size > 0,
    maxSampleRateHz: board.maxSampleRateHz,
    timerClockHz: board.timerClockHz,
    maxBlockSamples: board.maxBlockSamples,
    bufferBlocks: board.bufferBlocks,
  };
}

/**
 * Volts at the electrode per ADC code of an aux input: the ADC's volts per code (full scale over 2^bits, the
 * world's convention) divided by the amplifier's gain. Full scale is taken as DeviceInfo carries it (a float),
 * so a host recovers the gain exactly from the reported fields, and the C boards compute it the same way.
 */
export function auxElectrodeVoltsPerCode(a: Pick<AuxInputDef, 'adcBits' | 'fullScaleV' | 'gainVPerV'>): number {
  return Math.fround(a.fullScaleV) / 2 ** a.adcBits / a.gainVPerV;
}

/** Inclusive code range of a sample format (what the packer clamps to). */
export function codeRange(format: number, bits: number): { min: number; max: number } {
  if (format === SampleFormat.SAMPLE_FORMAT_INT16_LE) return { min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 };
  return { min: 0, max: 2 ** bits - 1 };
}
