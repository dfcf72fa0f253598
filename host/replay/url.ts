// Replay device URLs: a recording directory served as a device.
//
//   sim://replay?rec=DIR[&speed=X|max]     (as the simulator's URLs)
//   replay://DIR[?speed=X|max]             (replay:///abs/dir, replay://rel/dir)
//
//   rec / DIR  a recording directory made by `fiberrig acquire` (or its raw.fjl);
//              percent-encode characters a URL cannot hold (e.g. %20 for a space)
//   speed      recorded seconds per wall-clock second, 0.001..1e6 (default 1);
//              "max": as fast as the host reads
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { RAW_LOG_FILE_NAME } from '../record/rawlog-format.ts';
import { ReplayError } from './errors.ts';

export type ReplaySpeed = number | 'max';

export interface ReplayUrl {
  url: string;
  /** The recording directory or raw log, as the URL names it. */
  recording: string;
  speed: ReplaySpeed;
}

/** The sim:// scenario name that means "replay a recording". */
export const REPLAY_SCENARIO = 'replay';
export const SPEED_RANGE = Object.freeze({ min: 0.001, max: 1e6 });

const HINT = 'write sim://replay?rec=DIR&speed=max or replay://DIR?speed=10 (DIR: a recording made by fiberrig acquire)';

/** True when `url` names the replay device (sim://replay?… or replay://…), whatever its options. */
export function isReplayUrl(url: string): boolean {
  return /^replay:\/\//i.test(url.trim()) || /^sim:\/\/replay\/?(?:[?#]|$)/i.test(url.trim());
}

function parseSpeed(text: string, url: string): ReplaySpeed {
  if (text === 'max') return 'max';
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < SPEED_RANGE.min || v > SPEED_RANGE.max) {
    throw new ReplayError('E_REPLAY_URL', `speed "${text}" in ${url} is not a number in ${SPEED_RANGE.min}..${SPEED_RANGE.max} or "max"`, 'use speed=1 (real time), speed=10, or speed=max');
  }
  return v;
}

function decode(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch (cause) {
    throw new ReplayError('E_REPLAY_URL', `${url}: bad percent-encoding in "${text}"`, HINT, { cause });
  }
}

/** Parses a replay URL (syntax only: the recording is not read). */
export function parseReplayUrl(url: string): ReplayUrl {
  const trimmed = url.trim();
  const sim = /^sim:\/\/replay\/?(?:\?([^#]*))?$/i.exec(trimmed);
  const plain = sim ? null : /^replay:\/\/([^?#]*)(?:\?([^#]*))?$/i.exec(trimmed);
  if (!sim && !plain) throw new ReplayError('E_REPLAY_URL', `"${url}" is not a replay URL`, HINT);
  const params = new URLSearchParams((sim ? sim[1] : plain![2]) ?? '');
  const allowed = sim ? ['rec', 'speed'] : ['speed'];
  for (const key of params.keys()) {
    if (!allowed.includes(key)) throw new ReplayError('E_REPLAY_URL', `unknown option "${key}" in ${url}`, `replay options: ${allowed.join(', ')}`);
  }
  const recording = sim ? (params.get('rec') ?? '') : decode(plain![1] ?? '', url);
  if (recording.trim() === '') throw new ReplayError('E_REPLAY_URL', `${url} names no recording`, HINT);
  return { url: trimmed, recording, speed: parseSpeed(params.get('speed') ?? '1', url) };
}

/** Refuses a replay URL that could never open: bad syntax, or no raw log at the path (checked on disk, nothing opened). */
export function checkReplayUrl(url: string): void {
  const { recording } = parseReplayUrl(url);
  let isDir: boolean;
  try {
    isDir = statSync(recording).isDirectory();
  } catch (cause) {
    throw new ReplayError('E_REPLAY_NO_RECORDING', `no recording at ${recording}`, 'pass a directory written by fiberrig acquire --out', { cause });
  }
  if (isDir) {
    try {
      statSync(join(recording, RAW_LOG_FILE_NAME));
    } catch (cause) {
      throw new ReplayError('E_REPLAY_NO_RECORDING', `${recording} holds no ${RAW_LOG_FILE_NAME}`, 'pass a directory written by fiberrig acquire --out (it starts with the raw log)', { cause });
    }
  }
}
