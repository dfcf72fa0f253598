// The commands an agent answers on fiberrig.rig.<rig>.cmd (request/reply, JSON), checked
// before anything is done: an invalid one is refused with a typed error reply.
import { type AcquisitionFile, parseAcquisitionConfig } from '../config/acquisition.ts';
import { LabError } from './errors.ts';

/** Longest recording a start command may ask for (a week). */
export const MAX_DURATION_S = 7 * 24 * 3600;

export type AgentCommand =
  | { cmd: 'start'; subject: string | null; durationS: number; file: AcquisitionFile | undefined }
  | { cmd: 'stop' }
  | { cmd: 'led'; led: number; currentMa: number }
  | { cmd: 'mark'; label: string }
  | { cmd: 'status' };

const usage = (what: string): LabError => new LabError('E_LAB_COMMAND', what,
  'send JSON {"cmd":"start","subject":"m1","durationS":60,"config":{…}} | {"cmd":"stop"} | {"cmd":"led","led":0,"currentMa":10} | {"cmd":"mark","label":"…"} | {"cmd":"status"}');

export function parseCommand(data: Uint8Array): AgentCommand {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    throw usage('the command is not JSON');
  }
  if (typeof v !== 'object' || v === null) throw usage('the command is not a JSON object');
  const o = v as Record<string, unknown>;
  switch (o['cmd']) {
    case 'start': {
      const subject = o['subject'] ?? null;
      if (subject !== null && (typeof subject !== 'string' || subject.length > 200)) throw usage('"subject" must be a string (at most 200 characters)');
      const durationS = o['durationS'];
      if (typeof durationS !== 'number' || !(durationS > 0) || durationS > MAX_DURATION_S) throw usage(`"durationS" must be a number of seconds in (0, ${MAX_DURATION_S}]`);
      // a bad config throws ConfigError naming its fields
      const file = o['config'] === undefined ? undefined : parseAcquisitionConfig(o['config'], 'the start command\'s config');
      return { cmd: 'start', subject, durationS, file };
    }
    case 'stop':
    case 'status':
      return { cmd: o['cmd'] };
    case 'led': {
      const led = o['led'];
      const currentMa = o['currentMa'];
      if (typeof led !== 'number' || !Number.isInteger(led) || led < 0 || led > 255) throw usage('"led" must be an LED channel number (0–255)');
      if (typeof currentMa !== 'number' || !Number.isFinite(currentMa) || currentMa < 0) throw usage('"currentMa" must be a drive current in mA (≥ 0)');
      return { cmd: 'led', led, currentMa };
    }
    case 'mark': {
      const label = o['label'];
      if (typeof label !== 'string' || label === '' || label.length > 200) throw usage('"label" must be a non-empty string (at most 200 characters)');
      return { cmd: 'mark', label };
    }
    default:
      throw usage(`unknown command ${JSON.stringify(o['cmd'])}`);
  }
}
