// Acceptance 1 (issue 14), the issue's own scenario: `fiberrig sim --tcp` and `fiberrig acquire`
// as separate processes, the acquire process frozen with SIGSTOP for 5 s mid-recording and
// resumed with SIGCONT. The device's watchdog darkens the LEDs; after the resume the host must
// relight them within one heartbeat interval (measured in device sample indices: the first
// heartbeat the device answered after the trip, against the restore LedEvent), warn on stderr,
// count the span in its summary, and flag it in quality.csv and session.json exactly where the
// device's own LedEvents (events.csv) put the trip and the restore (± one block).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { designLockin } from '../../../host/dsp/lockin.ts';
import { RAW_LOG_FILE_NAME, RawLogReader } from '../../../host/record/rawlog.ts';
import { readSession } from '../../../host/record/session.ts';
import { readCsv } from './cli-io.ts';

const bin = fileURLToPath(new URL('../../../host/cli/bin.js', import.meta.url));
const FS = 10_000;
const BLOCK = 250;
const HEARTBEAT_INTERVAL_SAMPLES = 5000; // 500 ms: a quarter of the default 2 s timeout
const STOP_MS = 5000;
const DURATION_S = 14;
/** signals.csv times are output times minus the lock-in's group delay (the time the light was measured) */
const DELAY_S = designLockin({ sampleRateHz: FS, carriersHz: [648, 1150, 1749], detectorCount: 2 }).groupDelayS;

function waitFor(child: ChildProcess, pattern: RegExp, text: { value: string }): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const m = pattern.exec(text.value);
      if (m) { child.stderr!.off('data', check); child.off('exit', onExit); resolve(m); }
    };
    const onExit = (code: number | null): void => reject(new Error(`process exited (${code}) before ${pattern}: ${text.value}`));
    child.stderr!.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

describe(`acceptance: \`fiberrig acquire\` frozen by SIGSTOP for ${STOP_MS / 1000} s against \`fiberrig sim --tcp\` (steps, speed 1, ${DURATION_S} s; ± one block = ${BLOCK} samples)`, function () {
  this.timeout(120_000);
  let tmp: string;
  let sim: ChildProcess | undefined;
  let summary: Record<string, number>;
  let stderr = '';
  let trip = -1;
  let restore = -1;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-sigstop-'));
    const simErr = { value: '' };
    sim = spawn(process.execPath, [bin, 'sim', '--tcp', '127.0.0.1:0', '--device', 'sim://steps?seed=4'], { stdio: ['ignore', 'ignore', 'pipe'] });
    sim.stderr!.on('data', (c: Buffer) => { simErr.value += String(c); });
    const url = (await waitFor(sim, /on (tcp:\/\/[\d.]+:\d+)/, simErr))[1]!;
    const acqErr = { value: '' };
    const acquire = spawn(process.execPath, [bin, 'acquire', '--device', url, '--duration', `${DURATION_S}s`, '--out', join(tmp, 'rec'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    acquire.stdout!.on('data', (c: Buffer) => { stdout += String(c); });
    acquire.stderr!.on('data', (c: Buffer) => { acqErr.value += String(c); });
    const exited = new Promise<number | null>((resolve) => acquire.once('exit', (code) => resolve(code)));
    await waitFor(acquire, /recording to /, acqErr);
    await new Promise((r) => setTimeout(r, 3000));
    process.kill(acquire.pid!, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, STOP_MS));
    process.kill(acquire.pid!, 'SIGCONT');
    const code = await exited;
    stderr = acqErr.value;
    assert.equal(code, 0, stderr);
    summary = JSON.parse(stdout) as Record<string, number>;
    const events = (await readCsv(join(tmp, 'rec'), 'events.csv', true)).rows.filter((r) => r[1] === 'led');
    const at = (r: string[]): number => Math.round(Number(r[0]) * FS);
    trip = at(events.find((r) => r[3] === '0mA')!);
    restore = at(events.find((r) => at(r) > trip && r[3] !== '0mA')!);
    console.log(`      device LedEvents: dark from sample ${trip} to ${restore} (${((restore - trip) / FS).toFixed(3)} s)`);
  });

  after(async () => {
    sim?.kill('SIGTERM');
    await rm(tmp, { recursive: true, force: true });
  });

  it('the LEDs are back within one heartbeat interval + one block of the first heartbeat the device answered after the trip', async () => {
    let resumed = Number.POSITIVE_INFINITY;
    const reader = await RawLogReader.open(join(tmp, 'rec', RAW_LOG_FILE_NAME));
    for await (const e of reader.entries()) {
      if (e.type === 'heartbeat' && e.sample.running && e.sample.deviceSampleIndex > trip) resumed = Math.min(resumed, e.sample.deviceSampleIndex);
    }
    console.log(`      first heartbeat answered after the trip at sample ${resumed}; restore ${((restore - resumed) / FS * 1000).toFixed(1)} ms later`);
    assert.ok(restore >= resumed && restore - resumed <= HEARTBEAT_INTERVAL_SAMPLES + BLOCK, `restore ${restore}, heartbeats resumed ${resumed}`);
  });

  it('summary counts the span; stderr warned with times', () => {
    assert.equal(summary.qualityFlags, 1);
    assert.equal(summary.darkSpans, 1);
    assert.ok(Math.abs(summary.darkS! - (restore - trip) / FS) <= (2 * BLOCK) / FS, `darkS ${summary.darkS}`);
    assert.match(stderr, /WARNING: LEDs dark from \d+\.\d{3} s/);
    assert.match(stderr, /WARNING: LEDs dark: watchdog from \d+\.\d{3} s to \d+\.\d{3} s/);
  });

  it('quality.csv, session.json and signals.csv flag the span the device reported', async () => {
    const dir = join(tmp, 'rec');
    const q = await readCsv(dir, 'quality.csv', true);
    assert.equal(q.rowCount, 1);
    assert.equal(q.rows[0]![5], 'LEDs dark: watchdog');
    assert.ok(Math.abs(Math.round(Number(q.rows[0]![1]) * FS) - trip) <= BLOCK);
    assert.ok(Math.abs(Math.round((Number(q.rows[0]![1]) + Number(q.rows[0]![2])) * FS) - restore) <= BLOCK);
    const session = await readSession(dir);
    assert.equal(session?.quality?.length, 1);
    const s = await readCsv(dir, 'signals.csv');
    const t = s.columns.time_s!;
    const names = s.header.slice(1);
    for (let i = 0; i < t.length; i++) {
      const n = (t[i]! + DELAY_S) * FS;
      if (n >= trip + BLOCK && n < restore - BLOCK) for (const c of names) assert.ok(Number.isNaN(s.columns[c]![i]!), `NaN at ${t[i]} s`);
      if (n > FS && n < trip - BLOCK) for (const c of names) assert.ok(Number.isFinite(s.columns[c]![i]!), `finite at ${t[i]} s`);
    }
  });

  it('fiberrig inspect lists the span (text and --json)', async () => {
    const run = (args: string[]) => promisify(execFile)(process.execPath, [bin, 'inspect', '--in', join(tmp, 'rec'), ...args]);
    const text = (await run([])).stdout;
    assert.match(text, /quality +1 flagged span \(\d+\.\d{3} s with every LED dark/);
    assert.match(text, /LEDs dark: watchdog at \d+\.\d{3} s for \d+\.\d{3} s/);
    const json = JSON.parse((await run(['--json'])).stdout) as { quality: { darkSpans: number; spans: Array<{ sessionIndex: number }> } };
    assert.equal(json.quality.darkSpans, 1);
    assert.ok(Math.abs(json.quality.spans[0]!.sessionIndex - trip) <= BLOCK);
  });
});
