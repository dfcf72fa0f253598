// The first difference between two acquisition configurations, compared as
// the device receives them (canonical: a protobuf round trip, proto3 defaults
// filled in), named by the dotted field path an Error carries
// (`config.leds[1].carrier_hz`).
import { type AcquisitionConfigInit, pb } from '../../protocol/index.ts';

export interface ConfigDifference {
  /** Dotted path inside the Configure command, e.g. `config.sample_rate_hz`. */
  field: string;
  /** The value in the recording and in the request, as short text ("unset" when absent). */
  recorded: string;
  requested: string;
}

function canonicalObject(config: AcquisitionConfigInit): Record<string, unknown> {
  const message = pb.AcquisitionConfig.decode(pb.AcquisitionConfig.encode(config).finish());
  return pb.AcquisitionConfig.toObject(message, { defaults: true, enums: String, longs: Number }) as Record<string, unknown>;
}

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function text(value: unknown): string {
  if (value === undefined || value === null) return 'unset';
  if (typeof value === 'number') return Number.isFinite(value) ? String(Number(value.toPrecision(6))) : String(value);
  if (Array.isArray(value)) return `${value.length} entries`;
  if (typeof value === 'object') return 'set';
  return String(value).replace(/^(MODULATION_MODE)_/, '');
}

function differ(path: string, a: unknown, b: unknown): ConfigDifference | null {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return { field: path, recorded: text(a), requested: text(b) };
    for (let i = 0; i < a.length; i++) {
      const d = differ(`${path}[${i}]`, a[i], b[i]);
      if (d) return d;
    }
    return null;
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))];
    for (const key of keys) {
      const d = differ(`${path}.${snake(key)}`, a[key], b[key]);
      if (d) return d;
    }
    return null;
  }
  if (Object.is(a, b)) return null;
  return { field: path, recorded: text(a), requested: text(b) };
}

/** The first field (in the .proto's order) where `requested` differs from `recorded`, or null when they are the same configuration. */
export function configDifference(recorded: AcquisitionConfigInit, requested: AcquisitionConfigInit): ConfigDifference | null {
  return differ('config', canonicalObject(recorded), canonicalObject(requested));
}
