// The page's commands over the socket, without a browser: LED limits,
// recording through the recorder interface (and view's LiveRecorder), start/stop locked by acquire.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { DEFAULT_LOCKIN_CONFIG } from '../../../host/config/acquisition.ts';
import type { FrameMessage, HelloMessage, ReplyMessage, ServerMessage } from '../../../host/live/messages.ts';
import { type LiveRecording, type LiveServer, startLiveServer } from '../../../host/live/server.ts';
import { LiveRecorder } from '../../../host/live/recording.ts';
import type { RecordingResult } from '../../../host/record/recorder.ts';
import type { Rig } from '../../../host/rig/rig.ts';
import { tempDir } from '../record/helpers.ts';
import { firstMatch, simRig, until } from './helpers.ts';

class Page {
  readonly messages: ServerMessage[] = [];
  private nextId = 1;
  private constructor(readonly ws: WebSocket) {
    // listen before the socket opens: the hello can arrive with the handshake
    ws.on('message', (data) => this.messages.push(JSON.parse(String(data)) as ServerMessage));
  }

  static async open(server: LiveServer): Promise<Page> {
    const page = new Page(new WebSocket(`ws://127.0.0.1:${server.port}/ws`));
    await new Promise((resolve, reject) => { page.ws.once('open', resolve); page.ws.once('error', reject); });
    return page;
  }

  get hello(): HelloMessage | undefined {
    return this.messages.find((m): m is HelloMessage => m.type === 'hello');
  }

  lastFrame(): FrameMessage | undefined {
    return this.messages.findLast((m): m is FrameMessage => m.type === 'frame');
  }

  async command(message: Record<string, unknown>): Promise<ReplyMessage> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ ...message, id }));
    return until(`reply ${id}`, () => this.messages.find((m): m is ReplyMessage => m.type === 'reply' && m.id === id));
  }
}

describe('live view controls', function () {
  this.timeout(60_000);
  let rig: Rig | undefined;
  const servers: LiveServer[] = [];
  const pages: Page[] = [];

  before(async () => {
    rig = (await simRig('sim://steps?speed=2')).rig;
  });
  after(async () => {
    for (const p of pages) p.ws.terminate();
    for (const s of servers) await s.close();
    await rig?.close();
  });

  const open = async (server: LiveServer): Promise<Page> => {
    const page = await Page.open(server);
    pages.push(page);
    await until('hello', () => page.hello);
    return page;
  };

  it('without a recorder: shows NOT RECORDING and refuses to record, with the reason', async () => {
    const server = await startLiveServer({ rig: rig!, config: DEFAULT_LOCKIN_CONFIG, port: 0 });
    servers.push(server);
    const page = await open(server);
    assert.deepEqual(page.hello!.controls.recording.enabled, false);
    assert.match(page.hello!.controls.recording.reason!, /does not record/);
    const reply = await page.command({ type: 'record', on: true, subject: 'm1' });
    assert.equal(reply.ok, false);
    assert.match(reply.error!, /does not record/);
    const frame = await until('a frame', () => page.lastFrame());
    assert.equal(frame.recording.recording, false);
  });

  it('drives LEDs within the board limit and starts and stops the rig', async () => {
    const server = await startLiveServer({ rig: rig!, config: DEFAULT_LOCKIN_CONFIG, port: 0 });
    servers.push(server);
    const page = await open(server);
    const led = page.hello!.leds.find((l) => l.channel === 2)!;
    assert.equal(led.limitMa, rig!.info.leds.find((l) => l.id === 2)!.maxCurrentContinuousMa);
    assert.equal(led.configuredMa, 20);

    const above = await page.command({ type: 'setLed', channel: 2, currentMa: led.limitMa + 1 });
    assert.equal(above.ok, false);
    assert.match(above.error!, /limit/);
    assert.equal((await page.command({ type: 'setLed', channel: 3, currentMa: 5 })).ok, false, 'LED 3 is not configured');

    assert.equal((await page.command({ type: 'start' })).ok, true);
    assert.equal(rig!.running, true);
    const applied = firstMatch(rig!.status$, (s) => s.leds.some((l) => l.channel === 2 && Math.abs(l.currentMa - 12.5) < 0.01));
    // a burst of slider moves: coalesced, every one answered, the last one wins
    const replies = await Promise.all([5, 7, 9, 12.5].map((currentMa) => page.command({ type: 'setLed', channel: 2, currentMa })));
    assert.ok(replies.every((r) => r.ok), JSON.stringify(replies));
    await applied;
    const frame = await until('a frame showing the LED', () => page.messages.findLast((m): m is FrameMessage => m.type === 'frame' && m.status.leds.some((l) => l.channel === 2 && Math.abs(l.currentMa - 12.5) < 0.01)));
    assert.equal(frame.status.acquiring, true);

    assert.equal((await page.command({ type: 'stop' })).ok, true);
    assert.equal(rig!.running, false);
  });

  it('records through the recorder interface, and start/stop can be locked by the owner', async () => {
    const calls: string[] = [];
    let on = false;
    let subject: string | null = null;
    const recording: LiveRecording = {
      get isRecording() { return on; },
      get subject() { return subject; },
      target: '/data/rec1',
      start(s: string) { calls.push(`start ${s}`); on = true; subject = s; },
      stop() { calls.push('stop'); on = false; },
    };
    const server = await startLiveServer({ rig: rig!, config: DEFAULT_LOCKIN_CONFIG, port: 0, recording, acquisitionLockedReason: 'fiberrig acquire owns the acquisition' });
    servers.push(server);
    const page = await open(server);
    assert.equal(page.hello!.controls.recording.enabled, true);
    assert.deepEqual(page.hello!.controls.acquisition, { enabled: false, reason: 'fiberrig acquire owns the acquisition' });

    const noSubject = await page.command({ type: 'record', on: true, subject: '  ' });
    assert.equal(noSubject.ok, false);
    assert.match(noSubject.error!, /subject/);
    assert.equal((await page.command({ type: 'record', on: true, subject: 'mouse-7' })).ok, true);
    const recordingFrame = await until('a frame while recording', () => page.messages.findLast((m): m is FrameMessage => m.type === 'frame' && m.recording.recording));
    assert.deepEqual(recordingFrame.recording, { recording: true, subject: 'mouse-7', target: '/data/rec1' });
    assert.equal((await page.command({ type: 'record', on: false })).ok, true);
    assert.deepEqual(calls, ['start mouse-7', 'stop']);

    const start = await page.command({ type: 'start' });
    assert.equal(start.ok, false);
    assert.match(start.error!, /owns the acquisition/);
    assert.equal(rig!.running, false);
  });

  it('view\'s LiveRecorder: Record starts a Recorder on the open rig (start/stop refused meanwhile), Stop recording leaves a complete recording and viewing goes on', async () => {
    const tmp = tempDir('fiberrig-live-controls-');
    try {
      const finished: RecordingResult[] = [];
      const shown: Array<'recording' | 'own'> = [];
      let server: LiveServer | undefined;
      const recorder = new LiveRecorder({
        rig: rig!, file: DEFAULT_LOCKIN_CONFIG, durationS: Number.POSITIVE_INFINITY, outDirFor: (s) => join(tmp.dir, `rec-${s}`), onFinished: (r) => finished.push(r),
        showSignals: (signals) => { shown.push(signals ? 'recording' : 'own'); server?.useSignals(signals); },
      });
      server = await startLiveServer({ rig: rig!, config: DEFAULT_LOCKIN_CONFIG, port: 0, recording: recorder });
      servers.push(server);
      const page = await open(server);
      assert.equal(page.hello!.controls.recording.enabled, true);
      assert.equal((await page.command({ type: 'start' })).ok, true, 'viewing');
      assert.equal((await page.command({ type: 'record', on: true, subject: 'm9' })).ok, true);
      assert.equal(recorder.isRecording, true);
      const dir = join(tmp.dir, 'rec-m9');
      const frame = await until('a frame while recording', () => page.messages.findLast((m): m is FrameMessage => m.type === 'frame' && m.recording.recording));
      assert.deepEqual(frame.recording, { recording: true, subject: 'm9', target: dir });
      // the page's traces come from the recording's demodulation meanwhile (one demodulation)
      assert.deepEqual(shown, ['recording']);
      const before = page.messages.length;
      await until('signals on the page while recording', () => page.messages.slice(before).some((m) => m.type === 'frame' && m.recording.recording && (m.signals?.x.length ?? 0) > 0));
      const stop = await page.command({ type: 'stop' });
      assert.equal(stop.ok, false, 'the recording owns the acquisition');
      assert.match(stop.error!, /recording/);
      assert.equal(rig!.running, true);
      await until('1 s of signals in signals.csv', () => existsSync(join(dir, 'signals.csv')) && readFileSync(join(dir, 'signals.csv'), 'utf8').split('\n').length > DEFAULT_LOCKIN_CONFIG.outputRateHz);
      assert.equal((await page.command({ type: 'record', on: false })).ok, true);
      assert.equal(recorder.isRecording, false);
      assert.equal(finished.length, 1);
      const session = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')) as { status: string; subject: string; end: { stoppedBy: string } };
      assert.deepEqual([session.status, session.subject, session.end.stoppedBy], ['complete', 'm9', 'user']);
      assert.ok(finished[0]!.summary.signalRows >= DEFAULT_LOCKIN_CONFIG.outputRateHz, `${finished[0]!.summary.signalRows} rows`);
      await until('viewing goes on', () => rig!.running);
      assert.deepEqual(shown, ['recording', 'own'], 'the view demodulates on its own again');
      const after = page.messages.length;
      await until('signals on the page after the recording', () => page.messages.slice(after).some((m) => m.type === 'frame' && !m.recording.recording && (m.signals?.x.length ?? 0) > 0));
      assert.equal((await page.command({ type: 'stop' })).ok, true, 'start/stop are the page\'s again');
    } finally {
      tmp.cleanup();
    }
  });

  it('ignores malformed messages and keeps serving', async () => {
    const server = await startLiveServer({ rig: rig!, config: DEFAULT_LOCKIN_CONFIG, port: 0 });
    servers.push(server);
    const page = await open(server);
    page.ws.send('not json');
    page.ws.send(JSON.stringify({ type: 'setLed', id: 1, channel: 1, currentMa: -3 }));
    page.ws.send(JSON.stringify({ type: 'eval', code: 'x' }));
    const reply = await page.command({ type: 'setLed', channel: 9, currentMa: 1 });
    assert.equal(reply.ok, false);
    assert.equal(page.messages.filter((m) => m.type === 'reply').length, 1, 'only the valid command was answered');
  });
});
