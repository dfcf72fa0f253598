// The two pairs the differential run compares, each a simulator board and the
// C firmware build that claims the same board:
//   native          DEFAULT_BOARD (firmware-sim/device/board.ts) vs make host (core/fr_board.c)
//   native-pyboard  PYBOARD_SIM_BOARD below vs make host-pyboard (pyboard/board_pyboard.c)
// Names (model, firmware, build, serial) differ by design and are normalised in normalize.ts.
import { LedDriverKind } from '../../protocol/index.ts';
import { type BoardDefinition, DEFAULT_BOARD, defineBoard } from '../../firmware-sim/device/board.ts';
import { NATIVE_BINARY, NATIVE_PYBOARD_BINARY } from '../conformance/target.ts';


/** The pyboard (hardware/boards/pyboard.json, pyboard/board_pyboard.c) as a simulator board definition. */
export const PYBOARD_SIM_BOARD: BoardDefinition = defineBoard({
  model: 'pyboard-v1.1-pyphotometry',
  leds: [
    { id: 0, wavelengthNm: 470, maxCurrentContinuousMa: 100, maxCurrentPulsedMa: 100, dacBits: 12, driver: LedDriverKind.LED_DRIVER_KIND_DAC_CURRENT },
    { id: 1, wavelengthNm: 405, maxCurrentContinuousMa: 100, maxCurrentPulsedMa: 100, dacBits: 12, driver: LedDriverKind.LED_DRIVER_KIND_DAC_CURRENT },
  ],
  detectors: [
    { id: 0, adcBits: 15, fullScaleV: 3.3, maxRateHz: 10_000, label: 'analog_1' },
    { id: 1, adcBits: 15, fullScaleV: 3.3, maxRateHz: 10_000, label: 'analog_2' },
  ],
  auxInputs: [],
  digitalLines: [
    { id: 0, direction: 'input', label: 'digital_1' },
    { id: 1, direction: 'input', label: 'digital_2' },
    { id: 2, direction: 'output', label: 'sync_out' },
  ],
  maxSampleRateHz: 10_000,
  maxConversionRateHz: 200_000,
  bufferBlocks: 12,
});

export type PairName = 'native' | 'native-pyboard';

export interface Pair {
  readonly name: PairName;
  readonly board: BoardDefinition;
  readonly binary: string;
  /**
   * The pyboard's hardware-timing rules the simulator does not model (intended difference, see
   * intended-differences.test.ts): the generator keeps valid configs inside them for this pair.
   */
  readonly sampleClockHz: number | null;
  readonly maxDrivePeriodSamples: number | null;
}

export const PAIRS: Readonly<Record<PairName, Pair>> = {
  native: { name: 'native', board: DEFAULT_BOARD, binary: NATIVE_BINARY, sampleClockHz: null, maxDrivePeriodSamples: null },
  'native-pyboard': {
    name: 'native-pyboard', board: PYBOARD_SIM_BOARD, binary: NATIVE_PYBOARD_BINARY, sampleClockHz: 84_000_000, maxDrivePeriodSamples: 1024,
  },
};
