// Issue 17, point 8: demodulate() keeps its state per subscription (two
// subscribers to the same piped observable get identical output, equal to
// one demodulator fed alone), and `acquire --live` runs ONE demodulation
// shared by the derived files and the live view.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { from, Subject } from 'rxjs';
import { acquireCommand } from '../../../host/cli/commands/acquire.ts';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../../host/config/acquisition.ts';
import { LiveFeed } from '../../../host/live/feed.ts';
import { demodulate, type SignalBlock, SignalDemodulator } from '../../../host/pipeline/demodulate.ts';
import { canonicalConfig } from '../../../host/record/rawlog.ts';
import { type AcquisitionItem, Rig } from '../../../host/rig/rig.ts';
import type { DeviceInfo } from '../../../protocol/index.ts';
import { tempDir } from '../record/helpers.ts';
import { Sink } from './helpers.ts';

/** A copy that later pushes cannot change (values as plain arrays, NaN kept). */
const snapshot = (b: SignalBlock) => ({ stream: b.stream, firstIndex: b.firstIndex, count: b.count, values: b.values.map((v) => Array.from(v)) });

const FILE = DEFAULT_LOCKIN_CONFIG;
const WIRE = canonicalConfig(toWireConfig(FILE));
const OPTIONS = { outputRateHz: FILE.outputRateHz };

describe('pipeline/cli: demodulate() state per subscription; acquire --live demodulates once', function () {
  this.timeout(120_000);
  let items: AcquisitionItem[] = [];
  let info: DeviceInfo;

  before(async () => {
    // two seconds of the default lock-in acquisition from the simulator
    const rig = await Rig.connect('sim://steps?seed=4&speed=max');
    try {
      info = rig.info;
      await rig.configure(WIRE);
      let detectorSamples = 0;
      const enough = new Promise<void>((resolve) => {
        rig.acquisition$.subscribe((item) => {
          items.push(item);
          if (item.kind === 'block' && item.source === 'detector') detectorSamples += item.sampleCount;
          if (detectorSamples >= 2 * (WIRE.sampleRateHz ?? 0)) resolve();
        });
      });
      await rig.start();
      await enough;
      await rig.stop();
    } finally {
      await rig.close();
    }
    items = [...items];
  });

  function alone(): ReturnType<typeof snapshot>[] {
    const demod = new SignalDemodulator(WIRE, info, OPTIONS);
    return items.flatMap((item) => demod.push(item).map(snapshot));
  }

  it('two subscriptions one after the other to the same piped observable each get the output of a fresh demodulator', () => {
    const piped = from(items).pipe(demodulate(WIRE, info, OPTIONS));
    const first: ReturnType<typeof snapshot>[] = [];
    const second: ReturnType<typeof snapshot>[] = [];
    piped.subscribe((b) => first.push(snapshot(b)));
    piped.subscribe((b) => second.push(snapshot(b)));
    const expected = alone();
    assert.ok(expected.filter((b) => b.stream === 'signals').reduce((n, b) => n + b.count, 0) >= 150, 'about 2 s of 100 Hz rows');
    assert.deepEqual(first, expected);
    assert.deepEqual(second, expected);
  });

  it('two subscriptions at once to the same piped live source get identical output, equal to one demodulator fed alone', () => {
    const source = new Subject<AcquisitionItem>();
    const piped = source.pipe(demodulate(WIRE, info, OPTIONS));
    const a: ReturnType<typeof snapshot>[] = [];
    const b: ReturnType<typeof snapshot>[] = [];
    piped.subscribe((x) => a.push(snapshot(x)));
    piped.subscribe((x) => b.push(snapshot(x)));
    for (const item of items) source.next(item);
    source.complete();
    const expected = alone();
    assert.deepEqual(a, expected);
    assert.deepEqual(b, expected);
  });

  it('acquire --live: one demodulator instance feeds both the derived files and the live view', async () => {
    const tmp = tempDir('fiberrig-shared-demod-');
    const pushedBy = new Set<SignalDemodulator>();
    const push = SignalDemodulator.prototype.push;
    const feedProto = LiveFeed.prototype as unknown as { onSignals: (block: SignalBlock) => void };
    const onSignals = feedProto.onSignals;
    let liveBlocks = 0;
    SignalDemodulator.prototype.push = function (this: SignalDemodulator, item: AcquisitionItem) {
      pushedBy.add(this);
      return push.call(this, item);
    };
    feedProto.onSignals = function (this: unknown, block: SignalBlock) {
      liveBlocks++;
      return onSignals.call(this, block);
    };
    try {
      const out = new Sink();
      const err = new Sink();
      const code = await acquireCommand({ stdout: out, stderr: err }, {
        device: 'sim://steps?seed=4&speed=max', duration: '2s', out: join(tmp.dir, 'rec'), live: true, port: '0', quiet: true, json: true,
      });
      assert.equal(code, 0, err.text);
      assert.match(err.text, /live view at http:\/\/127\.0\.0\.1:\d+\//);
      const summary = JSON.parse(out.text) as { signalRows: number };
      assert.ok(summary.signalRows >= 150, `${summary.signalRows} rows`);
      assert.ok(liveBlocks > 0, 'the live view got signal blocks');
      assert.equal(pushedBy.size, 1, `${pushedBy.size} demodulators were fed`);
    } finally {
      SignalDemodulator.prototype.push = push;
      feedProto.onSignals = onSignals;
      tmp.cleanup();
    }
  });
});
