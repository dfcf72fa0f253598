// The C firmware decodes commands into static nanopb structs whose bounds
// come from protocol/fiberrig.options (max_size of strings, max_count of
// repeated fields). A command beyond them does not decode there, so the
// firmware answers FRAME_ERROR; protobufjs decodes it happily. The simulator
// applies the same bounds to every command so both answer alike (found by the
// conformance suite). The bounds are read from the .options file itself.
import { readFileSync } from 'node:fs';
import type { Envelope } from '../../protocol/index.ts';

interface Bound {
  maxSize?: number;
  maxCount?: number;
}

function loadBounds(): Map<string, Bound> {
  const text = readFileSync(new URL('../../protocol/fiberrig.options', import.meta.url), 'utf8');
  const bounds = new Map<string, Bound>();
  for (const line of text.split('\n')) {
    const m = /^\s*fiberrig\.v1\.(\w+\.\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const b: Bound = {};
    for (const opt of m[2]!.matchAll(/(max_size|max_count):(\d+)/g)) {
      if (opt[1] === 'max_size') b.maxSize = Number(opt[2]);
      else b.maxCount = Number(opt[2]);
    }
    bounds.set(m[1]!, b);
  }
  return bounds;
}

const BOUNDS = loadBounds();
const encoder = new TextEncoder();

function tooLong(field: string, value: string | null | undefined): boolean {
  const max = BOUNDS.get(field)?.maxSize;
  // a string's max_size includes its terminating NUL
  return max !== undefined && value != null && encoder.encode(value).length > max - 1;
}

function tooMany(field: string, value: readonly unknown[] | null | undefined): boolean {
  const max = BOUNDS.get(field)?.maxCount;
  return max !== undefined && value != null && value.length > max;
}

/** The first field of a command beyond the firmware's bounds ("Message.field"), or null. */
export function beyondFirmwareBounds(e: Envelope): string | null {
  const hello = e.hello;
  if (hello && tooLong('Hello.host_name', hello.hostName)) return 'Hello.host_name';
  const config = e.configure?.config;
  if (config) {
    if (tooMany('AcquisitionConfig.leds', config.leds)) return 'AcquisitionConfig.leds';
    if (tooMany('AcquisitionConfig.detector_ids', config.detectorIds)) return 'AcquisitionConfig.detector_ids';
    if (tooMany('AcquisitionConfig.digital_input_ids', config.digitalInputIds)) return 'AcquisitionConfig.digital_input_ids';
    if (tooMany('AuxConfig.input_ids', config.aux?.inputIds)) return 'AuxConfig.input_ids';
  }
  const table = e.writeCalibration?.table;
  if (table) {
    if (tooMany('CalibrationTable.leds', table.leds)) return 'CalibrationTable.leds';
    for (const led of table.leds ?? []) {
      if (tooMany('LedCalibration.points', led.points)) return 'LedCalibration.points';
      if (tooLong('LedCalibration.label', led.label)) return 'LedCalibration.label';
    }
  }
  return null;
}
