// The analysis input reduced while a recording is made (or re-derived by `fiberrig demod`), kept
// beside the raw log as `analysis-input.bin`, so `fiberrig analyze` reads a day-long recording in
// seconds instead of decoding and demodulating every raw sample again. It is a derived file like
// signals.csv: written from the same blocks, after the same cutoff. The reader uses it only when
// it was made with the settings asked for and the recording's own processing, and the recording
// ended; anything else (absent, damaged, other settings, an unfinished session) replays the raw
// log, which is always right.
//
// Layout (little-endian): "FRANALYS", u32 format version, u32 JSON length n, n bytes of JSON (the
// settings, the processing, the scalars and channel descriptions, and the array directory), zero
// padding to a multiple of 8, the float64 arrays in directory order, u32 CRC-32C of everything
// before it. Written to a temporary name and renamed, so a crash leaves no half file.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '../../protocol/index.ts';
import type { DemodOptions, SignalBlock, SignalDemodulator } from '../pipeline/demodulate.ts';
import type { DerivedOutput } from '../record/derived.ts';
import type { DerivedOutputsContext } from '../record/recorder-types.ts';
import { demodOptionsOf, processingOf } from '../record/replay.ts';
import { RawLogReader } from '../record/rawlog.ts';
import { readSession, resolveRecording } from '../record/session.ts';
import type { AnalysisInput, AnalysisInputOptions, SleepFeatureInput } from './input.ts';
import { AnalysisInputReducer, type AnalysisInputSettings, type AnalysisStreams } from './input-reduce.ts';

export const ANALYSIS_INPUT_FILE_NAME = 'analysis-input.bin';
const MAGIC = 'FRANALYS';
const FORMAT_VERSION = 1;

interface FileHeader {
  settings: AnalysisInputSettings;
  /** demodulation settings the blocks were made with (demodOptionsOf form) */
  demod: DemodOptions;
  durationS: number;
  photometry: Omit<AnalysisInput['photometry'], 'data'>;
  sleep: (Omit<SleepFeatureInput, 'features' | 'envelope' | 'bandPower'> & {
    envelope: Omit<SleepFeatureInput['envelope'], 'emgRmsV'>;
    bandPower: Omit<SleepFeatureInput['bandPower'], 'deltaV2' | 'thetaV2' | 'sigmaV2' | 'betaV2'>;
  }) | null;
  missing: string[];
  arrays: Array<{ key: string; length: number }>;
}

const FEATURE_KEYS = ['deltaV2', 'thetaV2', 'sigmaV2', 'betaV2', 'emgRmsV'] as const;
const BAND_KEYS = ['deltaV2', 'thetaV2', 'sigmaV2', 'betaV2'] as const;

/** JSON with object keys sorted: equal settings compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)))
    : v));
}

/** The file's bytes for `input`, made with `settings` from blocks demodulated with `demod`. */
export function encodeAnalysisInput(input: AnalysisInput, settings: AnalysisInputSettings, demod: DemodOptions): Uint8Array {
  const arrays: Array<{ key: string; data: Float64Array }> = [];
  for (const c of input.photometry.channels) arrays.push({ key: `photometry.${c.name}`, data: input.photometry.data[c.name]! });
  const { sleep } = input;
  if (sleep) {
    for (const k of FEATURE_KEYS) arrays.push({ key: `features.${k}`, data: sleep.features[k] });
    arrays.push({ key: 'envelope.emgRmsV', data: sleep.envelope.emgRmsV });
    for (const k of BAND_KEYS) arrays.push({ key: `bandPower.${k}`, data: sleep.bandPower[k] });
  }
  const { data: _data, ...photometry } = input.photometry;
  const header: FileHeader = {
    settings, demod: demodOptionsOf(demod, {}), durationS: input.durationS, photometry,
    sleep: sleep && {
      epochS: sleep.epochS, startS: sleep.startS,
      envelope: { stepS: sleep.envelope.stepS, windowS: sleep.envelope.windowS, startS: sleep.envelope.startS },
      bandPower: { stepS: sleep.bandPower.stepS, startS: sleep.bandPower.startS },
    },
    missing: input.missing,
    arrays: arrays.map((a) => ({ key: a.key, length: a.data.length })),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const dataStart = Math.ceil((16 + json.length) / 8) * 8;
  const total = dataStart + arrays.reduce((n, a) => n + a.data.byteLength, 0) + 4;
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(FORMAT_VERSION, 8);
  out.writeUInt32LE(json.length, 12);
  json.copy(out, 16);
  let at = dataStart;
  for (const a of arrays) {
    const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    out.set(bytes, at);
    at += bytes.length;
  }
  out.writeUInt32LE(crc32c(out.subarray(0, at)), at);
  return out;
}

/** The input and what it was made with, or null when `bytes` is not a whole, undamaged file of this format. */
export function decodeAnalysisInput(bytes: Uint8Array, path: string): { input: AnalysisInput; settings: AnalysisInputSettings; demod: DemodOptions } | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 20 || buf.toString('latin1', 0, 8) !== MAGIC || buf.readUInt32LE(8) !== FORMAT_VERSION) return null;
  const end = buf.length - 4;
  if (crc32c(buf.subarray(0, end)) !== buf.readUInt32LE(end)) return null;
  const jsonLength = buf.readUInt32LE(12);
  if (16 + jsonLength > end) return null;
  let header: FileHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 16, 16 + jsonLength)) as FileHeader;
  } catch {
    return null;
  }
  const values = new Map<string, Float64Array>();
  let at = Math.ceil((16 + jsonLength) / 8) * 8;
  for (const a of header.arrays) {
    const bytesLength = a.length * 8;
    if (at + bytesLength > end) return null;
    // a copy: aligned, and independent of the file's buffer
    const data = new Float64Array(a.length);
    new Uint8Array(data.buffer).set(buf.subarray(at, at + bytesLength));
    values.set(a.key, data);
    at += bytesLength;
  }
  if (at !== end) return null;
  const array = (key: string): Float64Array | undefined => values.get(key);
  const data: Record<string, Float64Array> = {};
  for (const c of header.photometry.channels) {
    const v = array(`photometry.${c.name}`);
    if (!v) return null;
    data[c.name] = v;
  }
  let sleep: SleepFeatureInput | null = null;
  if (header.sleep) {
    const f = FEATURE_KEYS.map((k) => array(`features.${k}`));
    const b = BAND_KEYS.map((k) => array(`bandPower.${k}`));
    const env = array('envelope.emgRmsV');
    if (f.some((x) => !x) || b.some((x) => !x) || !env) return null;
    sleep = {
      epochS: header.sleep.epochS, startS: header.sleep.startS,
      features: { deltaV2: f[0]!, thetaV2: f[1]!, sigmaV2: f[2]!, betaV2: f[3]!, emgRmsV: f[4]! },
      envelope: { ...header.sleep.envelope, emgRmsV: env },
      bandPower: { ...header.sleep.bandPower, deltaV2: b[0]!, thetaV2: b[1]!, sigmaV2: b[2]!, betaV2: b[3]! },
    };
  }
  return {
    input: { path, source: 'derived file', durationS: header.durationS, photometry: { ...header.photometry, data }, sleep, missing: header.missing },
    settings: header.settings,
    demod: header.demod,
  };
}

/**
 * The recording's analysis-input file as an AnalysisInput, when it was made with `settings` and
 * the recording's own processing and the session ended (or there is no session file); null otherwise
 * (the caller replays).
 */
export async function readAnalysisInputFile(path: string, settings: AnalysisInputSettings): Promise<AnalysisInput | null> {
  let paths: Awaited<ReturnType<typeof resolveRecording>>;
  try {
    paths = await resolveRecording(path);
  } catch {
    return null;
  }
  const { dir } = paths;
  // an acquisition writes session.json first and its end last: one without an end did not finish. A directory
  // without session.json (a bare raw log) got the file from a finished `fiberrig demod --out` into it
  const session = await readSession(dir);
  if (session && !session.end) return null;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(join(dir, ANALYSIS_INPUT_FILE_NAME));
  } catch {
    return null;
  }
  const decoded = decodeAnalysisInput(bytes, path);
  if (!decoded) return null;
  if (canonical(decoded.settings) !== canonical(settings)) return null;
  // what a replay without overrides demodulates with: the raw log's meta, then session.json
  const meta = await rawLogMeta(paths.rawLog).catch(() => null);
  if (!meta || canonical(decoded.demod) !== canonical(demodOptionsOf(processingOf(session, meta), {}))) return null;
  return decoded.input;
}

/** The raw log's meta records before its data (where replay takes processing settings from), merged. */
async function rawLogMeta(rawLog: string): Promise<Record<string, unknown>> {
  const reader = await RawLogReader.open(rawLog);
  const meta: Record<string, unknown> = {};
  let records = 0;
  for await (const r of reader.records()) {
    if (r.kind === 'meta') Object.assign(meta, r.meta);
    else if ((r.kind === 'entry' && r.entry.type === 'rx') || ++records > 256) break;
  }
  return meta;
}

/** What an acquisition's demodulator delivers, as the reducer needs it. */
export function analysisStreamsOfDemodulator(demod: SignalDemodulator, ledCount: number): AnalysisStreams {
  return {
    signalChannels: demod.signalStage.channels, signalRateHz: demod.signalStage.rateHz,
    auxChannels: demod.auxStage?.channels ?? [], auxOutputRateHz: demod.auxStage?.rateHz ?? 0, ledCount,
  };
}

/**
 * A DerivedWriter output that reduces the blocks it is given with the default analysis settings
 * and writes analysis-input.bin when the writer closes. A recording the analysis cannot use (no
 * LED, no photometry) gets no file; analyze then explains why from the raw log.
 */
export class AnalysisInputOutput implements DerivedOutput {
  private readonly reducer: AnalysisInputReducer | undefined;

  constructor(streams: AnalysisStreams, private readonly demod: DemodOptions, options: AnalysisInputOptions = {}) {
    const reducer = new AnalysisInputReducer('', options);
    try {
      reducer.begin(streams);
      this.reducer = reducer;
    } catch {
      this.reducer = undefined;
    }
  }

  signals(block: SignalBlock): void {
    this.reducer?.signals(block);
  }

  async close(dir: string): Promise<string | null> {
    if (!this.reducer) return null;
    const input = this.reducer.finish();
    const path = join(dir, ANALYSIS_INPUT_FILE_NAME);
    await writeFile(`${path}.tmp`, encodeAnalysisInput(input, this.reducer.settings, this.demod));
    await rename(`${path}.tmp`, path);
    return ANALYSIS_INPUT_FILE_NAME;
  }
}

/** The derived outputs a recording (host/record/recorder.ts) writes for the analysis: analysis-input.bin. */
export function analysisInputOutputs(ctx: DerivedOutputsContext): DerivedOutput[] {
  return [new AnalysisInputOutput(analysisStreamsOfDemodulator(ctx.demodulator, (ctx.wire.leds ?? []).length), ctx.demodOptions)];
}
