// The generated protobuf classes, re-exported under short names, and the
// Envelope encode/decode helpers every side uses.
import './protobuf-runtime.ts';
import { fiberrig } from '../generated/fiberrig.js';
import { ProtocolError } from './errors.ts';
import { decodeSampleBlockEnvelope } from './sample-block-decode.ts';

export const pb = fiberrig.v1;

/**
 * The shape of a decoded message, as protobufjs actually builds it: scalars,
 * enums, bytes and repeated fields always have a value (proto3 defaults);
 * sub-message fields (and oneof members) are present only when sent.
 */
export type Decoded<T> = {
  [K in Exclude<keyof T, MessageKeys<T> | '$unknowns'>]-?: DecodedValue<NonNullable<T[K]>>;
} & {
  [K in MessageKeys<T>]?: Decoded<NonNullable<T[K]>> | null;
};
type MessageKeys<T> = {
  [K in keyof T]-?: NonNullable<T[K]> extends Uint8Array | readonly unknown[] ? never : NonNullable<T[K]> extends object ? K : never;
}[keyof T];
type DecodedValue<V> = V extends Uint8Array ? V : V extends readonly (infer U)[] ? (U extends object ? Decoded<U> : U)[] : V;

/** A decoded Envelope: `body` names the oneof member that is set. */
export type Envelope = Decoded<fiberrig.v1.Envelope.$Properties> & { body?: NonNullable<fiberrig.v1.Envelope['body']> };
export type EnvelopeInit = fiberrig.v1.Envelope.$Properties;
export type EnvelopeBody = NonNullable<fiberrig.v1.Envelope['body']>;
export type AcquisitionConfig = Decoded<fiberrig.v1.AcquisitionConfig.$Properties>;
export type AcquisitionConfigInit = fiberrig.v1.AcquisitionConfig.$Properties;
export type DeviceInfo = Decoded<fiberrig.v1.DeviceInfo.$Properties>;
export type DeviceInfoInit = fiberrig.v1.DeviceInfo.$Properties;
export type SampleBlock = Decoded<fiberrig.v1.SampleBlock.$Properties>;
export type SampleBlockInit = fiberrig.v1.SampleBlock.$Properties;
export type Status = Decoded<fiberrig.v1.Status.$Properties>;
export type DigitalEvent = Decoded<fiberrig.v1.DigitalEvent.$Properties>;
export type LedEvent = Decoded<fiberrig.v1.LedEvent.$Properties>;
export type HeartbeatAck = Decoded<fiberrig.v1.HeartbeatAck.$Properties>;
export type ErrorReply = Decoded<fiberrig.v1.Error.$Properties>;
export type SelfTestReport = Decoded<fiberrig.v1.SelfTestReport.$Properties>;
export type CalibrationTable = Decoded<fiberrig.v1.CalibrationTable.$Properties>;
export type CalibrationTableInit = fiberrig.v1.CalibrationTable.$Properties;

export const ModulationMode = fiberrig.v1.ModulationMode;
export const ErrorCode = fiberrig.v1.ErrorCode;
export const SampleFormat = fiberrig.v1.SampleFormat;
export const SampleSource = fiberrig.v1.SampleSource;
export const Edge = fiberrig.v1.Edge;
export const DarkReason = fiberrig.v1.DarkReason;
export const LogLevel = fiberrig.v1.LogLevel;
export const SelfTestOutcome = fiberrig.v1.SelfTestOutcome;
export const LedDriverKind = fiberrig.v1.LedDriverKind;
export const DigitalDirection = fiberrig.v1.DigitalDirection;

/** Every oneof member of Envelope.body, in field order. */
export const ENVELOPE_BODIES = [
  'hello', 'getInfo', 'configure', 'start', 'stop', 'setLed', 'heartbeat', 'selfTest',
  'readCalibration', 'writeCalibration', 'reset', 'enterBootloader',
  'ack', 'error', 'deviceInfo', 'heartbeatAck', 'selfTestReport', 'calibrationTable',
  'sampleBlock', 'digitalEvent', 'ledEvent', 'status', 'log',
] as const satisfies readonly EnvelopeBody[];

export function encodeEnvelope(message: EnvelopeInit): Uint8Array {
  return pb.Envelope.encode(message).finish();
}

/**
 * Decodes one Envelope; throws ProtocolError E_DECODE for bytes that are not one. A SampleBlock
 * (the hot path) is read by a hand decoder that builds the same objects (sample-block-decode.ts);
 * everything else, and any encoding it does not handle, by protobufjs.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const fast = decodeSampleBlockEnvelope(bytes);
  if (fast !== undefined) return fast as unknown as Envelope;
  try {
    return pb.Envelope.decode(bytes) as unknown as Envelope;
  } catch (cause) {
    throw new ProtocolError('E_DECODE', `not a fiberrig Envelope (${(cause as Error).message})`, 'check that both sides speak fiberrig.v1', { cause });
  }
}
