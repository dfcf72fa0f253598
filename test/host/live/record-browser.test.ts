// End to end in Chromium (playwright-core, Debian's browser): the live view of `fiberrig view`
// records. Typing a subject and pressing Record starts a Recorder on the view's rig (the page
// shows RECORDING with the subject and the directory, and start/stop of the device are held);
// Stop recording ends it (session.json complete, stopped by the user, signals.csv with rows,
// analysis-input.bin beside it; its raw log replays to the same files) and viewing goes on.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { analysisInputOutputs } from '../../../host/analysis/input-file.ts';
import { demodRecording } from '../../../host/record/demod.ts';
import { LiveRecorder } from '../../../host/live/recording.ts';
import { type LiveServer, startLiveServer } from '../../../host/live/server.ts';
import type { RecordingResult } from '../../../host/record/recorder.ts';
import type { Rig } from '../../../host/rig/rig.ts';
import { tempDir } from '../record/helpers.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, needChromium, LIVE_TEST_CONFIG, simRig, until } from './helpers.ts';

interface PageCounters { signalPoints: number }
const counters = (page: Page): Promise<PageCounters> => page.evaluate(() => (globalThis as unknown as { fiberrigLive: PageCounters }).fiberrigLive);

describe('live view in Chromium: the Record button', function () {
  this.timeout(120_000);
  let rig: Rig | undefined;
  let server: LiveServer | undefined;
  let browser: Browser | undefined;
  const tmp = tempDir('fiberrig-live-record-');

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
    await rig?.close().catch(() => undefined);
    tmp.cleanup();
  });

  const title = 'records through the Recorder on the view\'s rig: RECORDING on the page, device controls held, a complete recording after Stop recording, viewing goes on';
  it(title, async function () {
    needChromium(this);
    const sim = await simRig('sim://sleep?seed=5&speed=4', LIVE_TEST_CONFIG);
    rig = sim.rig;
    const finished: RecordingResult[] = [];
    const recorder = new LiveRecorder({
      rig, file: LIVE_TEST_CONFIG, durationS: Number.POSITIVE_INFINITY, outDirFor: (subject) => join(tmp.dir, `rec-${subject}`),
      derivedOutputs: analysisInputOutputs, onFinished: (r) => finished.push(r),
      // as fiberrig view wires it: the page shows the recording's demodulation while it records
      showSignals: (signals) => server?.useSignals(signals),
    });
    server = await startLiveServer({ rig, config: LIVE_TEST_CONFIG, wire: sim.wire, port: 0, recording: recorder });
    await rig.start();

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    await page.goto(server.url);
    await page.locator('#signals .uplot').first().waitFor();
    assert.equal(await page.locator('#record').isDisabled(), false, 'the view has a recorder: Record is enabled');
    assert.match(String(await page.locator('#rec').textContent()), /NOT RECORDING/);

    await page.locator('#subject').fill('m7');
    await page.locator('#record').click();
    const dir = join(tmp.dir, 'rec-m7');
    const badge = await until('the page shows RECORDING', async () => {
      const text = String(await page.locator('#rec').textContent());
      return /RECORDING · m7/.test(text) && !/NOT/.test(text) && text;
    });
    assert.ok(badge.includes(dir), `the badge names the directory: ${badge}`);
    assert.equal(await page.locator('#record').textContent(), 'Stop recording');
    assert.equal(await page.locator('#stop').isDisabled(), true, 'the device\'s stop is held while recording');
    assert.equal(recorder.isRecording, true);
    // the badge shows from the recording's start, while the Recorder still stops, configures and starts the view's rig
    await until('the rig runs again, for the recording', () => rig?.running);
    // the traces go on while recording (from the recording's demodulation)
    const duringStart = await counters(page);
    await until('signal points while recording', async () => (await counters(page)).signalPoints > duringStart.signalPoints + 200);
    // some seconds of data into the recording
    await until('3 s of signals in signals.csv', () => existsSync(join(dir, 'signals.csv')) && readFileSync(join(dir, 'signals.csv'), 'utf8').split('\n').length > 3 * LIVE_TEST_CONFIG.outputRateHz);

    await page.locator('#record').click();
    await until('the page shows NOT RECORDING', async () => /NOT RECORDING/.test(String(await page.locator('#rec').textContent())));
    await until('the recording finished', () => finished.length === 1);
    const session = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')) as { status: string; subject: string; end: { stoppedBy: string; cutoffS: number }; derivedFiles: string[] };
    assert.equal(session.status, 'complete');
    assert.equal(session.subject, 'm7');
    assert.equal(session.end.stoppedBy, 'user');
    assert.ok(session.end.cutoffS >= 3, `cutoff ${session.end.cutoffS} s`);
    assert.ok(session.derivedFiles.includes('analysis-input.bin'), session.derivedFiles.join(', '));
    assert.equal(finished[0]!.summary.stoppedBy, 'user');
    assert.equal(finished[0]!.error, undefined);
    assert.ok(existsSync(join(dir, 'summary.json')));
    // the raw log of a recording that joined an open link replays to the same files (live = offline)
    const offline = join(tmp.dir, 'offline');
    await demodRecording(dir, offline);
    for (const f of ['signals.csv', 'aux.csv', 'events.csv', 'gaps.csv']) assert.ok(readFileSync(join(offline, f)).equals(readFileSync(join(dir, f))), `${f}: offline equals live`);

    // viewing goes on: the device runs again and the page's device controls are back
    await until('the rig runs again', () => rig!.running);
    await until('stop is enabled again', async () => !(await page.locator('#stop').isDisabled()));
    const afterStop = await counters(page);
    await until('signal points after the recording', async () => (await counters(page)).signalPoints > afterStop.signalPoints + 200);
    assert.deepEqual(pageErrors, []);
  });
});
