// What a recording holds for the replay device, read from its raw log in one
// streaming pass: the device's info, the calibration table it sent, the
// configuration in force at the first Start (and the config id the device
// gave it), and the device's runs — every SampleBlock, DigitalEvent,
// LedEvent, Status and Log it sent while running, as the host decoded them
// (a frame the original run dropped is dropped here too), with the Acks of
// the Starts and Stops and where the link closed under a run.
//
// The raw log is read forward only; memory does not grow with its length.
import {
  type AcquisitionConfigInit, type CalibrationTable, decodeEnvelope, type DeviceInfo, type Envelope, FrameDecoder, SampleSource,
} from '../../protocol/index.ts';
import { canonicalConfig } from '../record/rawlog-format.ts';
import { RawLogReader } from '../record/rawlog-reader.ts';
import { resolveRecording } from '../record/session.ts';
import type { GapReason, Intent } from '../rig/assembler.ts';
import { ReplayError } from './errors.ts';

/** The device-to-host messages of a run that the replay device sends again. */
export type StreamBody = 'sampleBlock' | 'digitalEvent' | 'ledEvent' | 'status' | 'log';
const STREAM_BODIES: ReadonlySet<string> = new Set<StreamBody>(['sampleBlock', 'digitalEvent', 'ledEvent', 'status', 'log']);

export interface RecordedMessage {
  /** The Envelope's bytes as the device sent them (the frame's payload). */
  payload: Uint8Array;
  message: Envelope;
  body: StreamBody;
  /** Detector blocks: the index after the block's last sample (the device's sample clock). */
  detectorEnd?: number;
}

/** A recorded Ack's sample index and device uptime (Start, Stop), and the config id it named (Start). */
export interface RecordedAck {
  sampleIndex: number;
  deviceTimeUs: number;
  configId: number;
}

/**
 * The recording's runs, in order: each Start's Ack (and a resume's reason), the device's messages,
 * `unplugged` where the link closed while the run went on (a cable pull: what
 * follows came after the host reopened the port), and the run's end — the Ack
 * of the Stop that ended it (`stop`), a new Start without one (`restart`), or
 * the end of the log.
 */
export type RunEvent =
  | { kind: 'started'; ack: RecordedAck; resume?: GapReason }
  | { kind: 'message'; message: RecordedMessage }
  | { kind: 'unplugged' }
  | { kind: 'ended'; why: 'stop'; ack: RecordedAck }
  | { kind: 'ended'; why: 'restart' | 'end-of-log' };

type ScanEvent =
  | RunEvent
  | { kind: 'info'; info: DeviceInfo }
  | { kind: 'calibration'; table: CalibrationTable }
  | { kind: 'configured'; config: AcquisitionConfigInit; configId: number };

/** Everything in the raw log the replay device needs, in order. */
async function* scan(rawLogPath: string): AsyncGenerator<ScanEvent> {
  const reader = await RawLogReader.open(rawLogPath);
  const pending = new Map<number, Intent>();
  const out: ScanEvent[] = [];
  let infoSeen = false;
  let started = false;
  let running = false;
  const decoder = new FrameDecoder((payload) => {
    let message: Envelope;
    try {
      message = decodeEnvelope(payload);
    } catch {
      return; // the original run counted it as a decode error and dropped it
    }
    const body = message.body;
    if (!body) return;
    if (body === 'ack' || body === 'error') {
      const intent = pending.get(message.requestId);
      if (!intent) return;
      pending.delete(message.requestId);
      if (body === 'error') return;
      const ack = { sampleIndex: message.ack?.sampleIndex ?? 0, deviceTimeUs: message.ack?.deviceTimeUs ?? 0, configId: message.ack?.configId ?? 0 };
      if (intent.command === 'configure' && !started) {
        out.push({ kind: 'configured', config: canonicalConfig(intent.config), configId: message.ack?.configId ?? 0 });
      } else if (intent.command === 'start') {
        if (running) out.push({ kind: 'ended', why: 'restart' });
        started = true;
        running = true;
        out.push({ kind: 'started', ack, ...(intent.resume ? { resume: intent.resume.reason } : {}) });
      } else if (intent.command === 'stop' && running) {
        running = false;
        out.push({ kind: 'ended', why: 'stop', ack });
      }
      return;
    }
    if (body === 'calibrationTable' && !started && message.calibrationTable) {
      out.push({ kind: 'calibration', table: message.calibrationTable });
      return;
    }
    if (!running || !STREAM_BODIES.has(body)) return;
    const recorded: RecordedMessage = { payload, message, body: body as StreamBody };
    const block = message.sampleBlock;
    if (block && block.source === SampleSource.SAMPLE_SOURCE_DETECTOR) recorded.detectorEnd = block.firstSampleIndex + block.sampleCount;
    out.push({ kind: 'message', message: recorded });
  });
  for await (const record of reader.records()) {
    if (record.kind !== 'entry') continue;
    const entry = record.entry;
    if (entry.type === 'device-info' && !infoSeen) {
      infoSeen = true;
      out.push({ kind: 'info', info: entry.info });
    } else if (entry.type === 'intent') {
      pending.set(entry.intent.requestId, entry.intent);
    } else if (entry.type === 'rx') {
      decoder.push(entry.bytes);
    } else if (entry.type === 'link' && entry.state === 'closed') {
      decoder.reset();
      pending.clear();
      if (running) out.push({ kind: 'unplugged' });
    }
    for (const event of out) yield event;
    out.length = 0;
  }
  if (running) yield { kind: 'ended', why: 'end-of-log' };
}

/** The device a recording describes (read from the start of its raw log). */
export interface RecordedDevice {
  dir: string;
  rawLogPath: string;
  info: DeviceInfo;
  /** The calibration table the device sent (ReadCalibration), or null when none was read. */
  calibration: CalibrationTable | null;
  /** The configuration in force at the first Start (canonical), or null when the recording never started. */
  config: AcquisitionConfigInit | null;
  /** The config id the device gave that configuration. */
  configId: number;
}

/** Reads a recording's device (info, calibration, configuration) from the start of its raw log, up to its first Start. */
export async function loadRecordedDevice(path: string): Promise<RecordedDevice> {
  const { dir, rawLog } = await resolveRecording(path);
  let info: DeviceInfo | undefined;
  let calibration: CalibrationTable | null = null;
  let configured: { config: AcquisitionConfigInit; configId: number } | undefined;
  let started = false;
  for await (const event of scan(rawLog)) {
    if (event.kind === 'info') info = event.info;
    else if (event.kind === 'calibration') calibration = event.table;
    else if (event.kind === 'configured') configured = { config: event.config, configId: event.configId };
    else if (event.kind === 'started') {
      started = true;
      break;
    }
  }
  if (!info) {
    throw new ReplayError('E_REPLAY_NO_INFO', `the raw log of ${dir} holds no device info`, 'the recording ended (or was damaged) before its device answered Hello: replay another recording');
  }
  return { dir, rawLogPath: rawLog, info, calibration, config: started && configured ? configured.config : null, configId: configured?.configId ?? 0 };
}

/** The recording's runs, from the first Start's Ack to the end of the log (see RunEvent). */
export async function* recordedRuns(rawLogPath: string): AsyncGenerator<RunEvent> {
  let started = false;
  for await (const event of scan(rawLogPath)) {
    if (event.kind === 'started') started = true;
    if (started && (event.kind === 'started' || event.kind === 'message' || event.kind === 'unplugged' || event.kind === 'ended')) yield event;
  }
}
