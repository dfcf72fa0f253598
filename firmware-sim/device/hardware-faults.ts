// Hardware faults of a simulated rig's front end, named by channel id (as a
// rig builder sees them), for sim:// URLs (`hw=`) and createSimDevice:
//
//   dead_led:CH            LED channel CH emits no light whatever the current
//   dead_det:ID            detector ID sees no light (offset and read noise only)
//   saturated_det:ID       detector ID reads full scale
//   noisy_det:ID[:FACTOR]  detector ID's noise x FACTOR (default 20)
//   stuck_det:ID[:CODE]    detector ID reads one code (default 0)
//   disconnected_aux:ID    aux input ID's electrode is off (mains pickup, no biology)
//   railed_aux:ID          aux input ID reads full scale
//
// e.g. sim://steps?hw=dead_led:1,noisy_det:0. The world applies them
// (WorldFaults, by board position); worlds without a front-end model ("linear") refuse them.
import type { WorldFaults } from '../world/types.ts';
import type { BoardDefinition } from './board.ts';
import { SimError } from './errors.ts';

export type HardwareFault =
  | { kind: 'dead_led'; channel: number }
  | { kind: 'dead_det' | 'saturated_det'; detector: number }
  | { kind: 'noisy_det'; detector: number; factor?: number }
  | { kind: 'stuck_det'; detector: number; code?: number }
  | { kind: 'disconnected_aux' | 'railed_aux'; input: number };

const HINT = 'write hw=KIND:ID[,KIND:ID...], e.g. hw=dead_led:1,noisy_det:0 (kinds: dead_led, dead_det, saturated_det, noisy_det[:FACTOR], stuck_det[:CODE], disconnected_aux, railed_aux)';

/** Parses the `hw=` list; an empty string is no fault. */
export function parseHardwareFaults(text: string): HardwareFault[] {
  const out: HardwareFault[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const m = /^\s*([a-z_]+)\s*:\s*(\d+)\s*(?::\s*([0-9.eE+-]+)\s*)?$/.exec(part);
    if (!m) throw new SimError('E_SIM_URL', `hw "${part}" is not KIND:ID[:VALUE]`, HINT);
    const kind = m[1]!;
    const id = Number(m[2]);
    if (id > 255) throw new SimError('E_SIM_URL', `hw "${part}": ${m[2]} is not an id (0..255)`, HINT);
    const value = m[3] === undefined ? undefined : Number(m[3]);
    const noValue = (): void => {
      if (value !== undefined) throw new SimError('E_SIM_URL', `hw "${part}": ${kind} takes no value`, HINT);
    };
    switch (kind) {
      case 'dead_led':
        noValue();
        out.push({ kind, channel: id });
        break;
      case 'dead_det':
      case 'saturated_det':
        noValue();
        out.push({ kind, detector: id });
        break;
      case 'noisy_det':
        if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new SimError('E_SIM_URL', `hw "${part}": noise factor must be > 0`, HINT);
        out.push({ kind, detector: id, ...(value !== undefined ? { factor: value } : {}) });
        break;
      case 'stuck_det':
        if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw new SimError('E_SIM_URL', `hw "${part}": stuck code must be an integer >= 0`, HINT);
        out.push({ kind, detector: id, ...(value !== undefined ? { code: value } : {}) });
        break;
      case 'disconnected_aux':
      case 'railed_aux':
        noValue();
        out.push({ kind, input: id });
        break;
      default:
        throw new SimError('E_SIM_URL', `hw "${part}": unknown fault kind "${kind}"`, HINT);
    }
  }
  return out;
}

/** The world's view (board positions) of faults named by channel id; unknown ids are an error. */
export function worldFaultsOf(board: BoardDefinition, faults: readonly HardwareFault[]): WorldFaults {
  const position = (list: ReadonlyArray<{ id: number }>, id: number, what: string): number => {
    const k = list.findIndex((x) => x.id === id);
    if (k < 0) throw new SimError('E_SIM_OPTIONS', `hw names ${what} ${id}, which this board lacks`, `board ${what} ids: ${list.map((x) => x.id).join(', ')}`);
    return k;
  };
  const deadLeds: number[] = [];
  const detectors: NonNullable<WorldFaults['detectors']>[number][] = [];
  const aux: NonNullable<WorldFaults['aux']>[number][] = [];
  for (const f of faults) {
    switch (f.kind) {
      case 'dead_led':
        deadLeds.push(position(board.leds, f.channel, 'LED'));
        break;
      case 'dead_det':
        detectors.push({ index: position(board.detectors, f.detector, 'detector'), kind: 'dead' });
        break;
      case 'saturated_det':
        detectors.push({ index: position(board.detectors, f.detector, 'detector'), kind: 'saturated' });
        break;
      case 'noisy_det':
        detectors.push({ index: position(board.detectors, f.detector, 'detector'), kind: 'noisy', ...(f.factor !== undefined ? { noiseFactor: f.factor } : {}) });
        break;
      case 'stuck_det':
        detectors.push({ index: position(board.detectors, f.detector, 'detector'), kind: 'stuck', code: f.code ?? 0 });
        break;
      case 'disconnected_aux':
        aux.push({ index: position(board.auxInputs, f.input, 'aux input'), kind: 'disconnected' });
        break;
      case 'railed_aux':
        aux.push({ index: position(board.auxInputs, f.input, 'aux input'), kind: 'railed' });
        break;
    }
  }
  return { ...(deadLeds.length ? { deadLeds } : {}), ...(detectors.length ? { detectors } : {}), ...(aux.length ? { aux } : {}) };
}
