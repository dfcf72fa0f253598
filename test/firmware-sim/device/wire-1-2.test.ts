// Protocol 1.2 on the simulated device: aux blocks of their own size
// (AuxConfig.block_samples) and HeartbeatAck.reply_queued_us, the time a
// reply waited for the link behind the frame being sent.
import assert from 'node:assert/strict';
import { frameEnvelope } from '../../../protocol/index.ts';
import { AUX, assertContinuous, DET, LOCK_IN, TestHost } from './helpers.ts';

const BIG_BLOCKS = { ...LOCK_IN, blockSamples: 1000, aux: { inputIds: [0, 1], rateHz: 1000, blockSamples: 250 } };

describe('firmware-sim device: protocol 1.2 (aux block size, heartbeat reply wait)', () => {
  it('aux blocks hold AuxConfig.block_samples and come every 0.25 s while detector blocks hold 1000 samples (0.1 s)', () => {
    const h = new TestHost();
    h.startRun(BIG_BLOCKS);
    h.device.advance(0.3);
    assert.equal(h.blocks(DET).length, 3);
    assert.equal(h.blocks(AUX).length, 1, 'one aux block by 0.3 s (its 250 samples end at 0.25 s)');
    h.device.advance(0.26);
    assert.equal(h.blocks(AUX).length, 2);
    h.device.advance(1.5);
    h.request({ stop: {} });
    h.device.advance(1);
    const det = h.blocks(DET);
    const aux = h.blocks(AUX);
    assert.ok(det.slice(0, -1).every((b) => b.sampleCount === 1000), 'full detector blocks of 1000');
    assert.ok(aux.slice(0, -1).every((b) => b.sampleCount === 250), `full aux blocks of 250: ${aux.map((b) => b.sampleCount).join(',')}`);
    const detEnd = det.reduce((n, b) => n + b.sampleCount, 0);
    assertContinuous(det, detEnd);
    assertContinuous(aux, Math.ceil(detEnd / 10));
  });

  it('without AuxConfig.block_samples aux blocks hold block_samples, as before 1.2', () => {
    const h = new TestHost();
    h.startRun({ ...LOCK_IN, blockSamples: 100, aux: { inputIds: [0], rateHz: 1000 } });
    h.device.advance(0.35);
    assert.deepEqual(h.blocks(AUX).map((b) => b.sampleCount), [100, 100, 100]);
  });

  it('reply_queued_us: 0 on an idle link; the wait behind a 4 KB block being sent, to the µs, otherwise', () => {
    const rate = 100_000; // B/s: a 4 KB block frame takes ~40 ms on the link
    const h = new TestHost({ linkBytesPerSecond: rate });
    h.startRun(BIG_BLOCKS);
    const startUs = h.of('ack').map((m) => m.ack!.deviceTimeUs).find((us) => us > 0)!;
    h.device.advanceTo(startUs + 50_000); // the link is idle between blocks
    const idle = h.request({ heartbeat: { hostTimeUs: 1 } }).heartbeatAck!;
    assert.equal(idle.replyQueuedUs, 0);
    // the first detector block [0, 1000) completes at start + 0.1 s and goes out at once; a heartbeat 5 ms into it waits for the rest
    h.device.advanceTo(startUs + 105_000);
    const arrivalUs = h.device.deviceTimeUs;
    const id = h.send({ heartbeat: { hostTimeUs: 2 } });
    h.device.advance(0.1);
    const i = h.received.findIndex((m) => m.requestId === id);
    const ack = h.received[i]!.heartbeatAck!;
    const blockIndex = h.received.findIndex((m) => m.sampleBlock?.source === DET);
    assert.ok(blockIndex >= 0 && blockIndex < i, 'the block went out before the ack');
    assert.equal(ack.deviceTimeUs, arrivalUs, 'stamped at arrival');
    const frameBytes = frameEnvelope({ requestId: 0, sampleBlock: h.received[blockIndex]!.sampleBlock! }).length;
    const expectedUs = startUs + 100_000 + (frameBytes / rate) * 1e6 - arrivalUs;
    assert.ok(expectedUs > 30_000, `a 4 KB frame at ${rate} B/s holds the reply back ~35 ms (${expectedUs} µs)`);
    assert.ok(Math.abs(ack.replyQueuedUs - expectedUs) <= 2, `queued ${ack.replyQueuedUs} µs, expected ${expectedUs}`);
  });
});
