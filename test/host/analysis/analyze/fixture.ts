// Test helper for `fiberrig analyze`: the CLI as a child process, and the recordings the tests
// analyse, each made once per mocha process (the test files share them) and removed on exit.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cliAcquire } from '../../acceptance/cli-io.ts';

const bin = fileURLToPath(new URL('../../../../host/cli/bin.js', import.meta.url));

let tmp: string | undefined;
/** A temporary directory for this mocha process, removed when it exits. */
export function scratch(): string {
  if (!tmp) {
    const dir = mkdtempSync(join(tmpdir(), 'fiberrig-analyze-'));
    tmp = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return tmp;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `fiberrig ARGS…` as a child process; resolves with its exit code and output (never rejects on a non-zero exit). */
export async function cli(args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 110_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof x.code !== 'number') throw e;
    return { code: x.code, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/** The sleep recording: 15 min of sim://sleep (seed 4, chosen from the world's truth for the report's content: two NREM episodes ≥ 220 s and four isolated micro-arousals, so every plot has data and the MA-locked SEM has n ≥ 2) with the default config (470/405/560 nm, EEG/EMG). */
export const SLEEP_SEED = 4;
export const SLEEP_DURATION_S = 900;
let sleep: Promise<string> | undefined;
export function sleepRecording(): Promise<string> {
  sleep ??= (async () => {
    const dir = join(scratch(), `sleep-${SLEEP_SEED}`);
    await cliAcquire(`sim://sleep?seed=${SLEEP_SEED}&speed=max`, `${SLEEP_DURATION_S}s`, dir);
    return dir;
  })();
  return sleep;
}

/** A recording without aux channels and without a 560 nm LED: sim://linear, 405 + 470 nm on one detector, 60 s. */
let plain: Promise<string> | undefined;
export function noAuxRecording(): Promise<string> {
  plain ??= (async () => {
    const config = join(scratch(), 'no-aux.json');
    writeFileSync(config, JSON.stringify({
      mode: 'lock-in', sampleRateHz: 10000, detectors: [0], blockSamples: 250, outputRateHz: 100,
      leds: [{ channel: 0, currentMa: 20, carrierHz: 648 }, { channel: 1, currentMa: 20, carrierHz: 1150 }],
    }));
    const dir = join(scratch(), 'linear-no-aux');
    await cliAcquire('sim://linear?seed=4&speed=max', '60s', dir, ['--config', config]);
    return dir;
  })();
  return plain;
}
