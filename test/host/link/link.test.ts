import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import {
  EnvelopeDecoderStream, type Envelope, type EnvelopeInit, ErrorCode, frameEnvelope,
} from '../../../protocol/index.ts';
import { DeviceError, LinkError } from '../../../host/link/errors.ts';
import { type HeartbeatSample, Link } from '../../../host/link/link.ts';
import type { Transport } from '../../../host/transport/open.ts';
import { duplexPair } from '../../support/duplex-pair.ts';

/** A scripted device on the far end of an in-memory pair. */
function scriptedDevice(answer: (m: Envelope, send: (e: EnvelopeInit) => void) => void): { transport: Transport; device: Duplex; received: Envelope[] } {
  const [host, device] = duplexPair();
  const received: Envelope[] = [];
  const send = (e: EnvelopeInit): void => { device.write(frameEnvelope(e)); };
  device.pipe(new EnvelopeDecoderStream()).on('data', (m: Envelope) => {
    received.push(m);
    answer(m, send);
  });
  const transport: Transport = { url: 'test://', stream: host, close: async () => { host.end(); host.destroy(); } };
  return { transport, device, received };
}

describe('host/link', () => {
  it('correlates replies by request id, even out of order', async () => {
    const held: Envelope[] = [];
    const { transport } = scriptedDevice((m, send) => {
      held.push(m);
      if (held.length === 2) {
        for (const h of [...held].reverse()) send({ requestId: h.requestId, ack: { configId: h.requestId * 10 } });
      }
    });
    const link = new Link(transport);
    const [a, b] = await Promise.all([link.request({ getInfo: {} }), link.request({ stop: {} })]);
    assert.equal(a.ack?.configId, held[0]!.requestId * 10);
    assert.equal(b.ack?.configId, held[1]!.requestId * 10);
    assert.notEqual(held[0]!.requestId, held[1]!.requestId);
    await link.close();
  });

  it('stamps a heartbeat reply with the arrival of the bytes that carried it, not with when the host got to it behind the blocks before it', async () => {
    let clockUs = 1_000_000;
    // the device answers with a status message and the ack in one write: one chunk, the status first
    let dev: Duplex | undefined;
    const { transport, device } = scriptedDevice((m) => {
      if (m.body !== 'heartbeat') return;
      clockUs += 300; // the round trip
      dev!.write(Buffer.concat([frameEnvelope({ requestId: 0, status: {} }), frameEnvelope({ requestId: m.requestId, heartbeatAck: { sampleIndex: 7, running: true } })]));
    });
    dev = device;
    const link = new Link(transport, { nowUs: () => clockUs });
    link.stream$.subscribe(() => { clockUs += 5000; }); // handling what came before the ack takes the host 5 ms
    const sample = new Promise<HeartbeatSample>((resolve) => link.heartbeats$.subscribe(resolve));
    link.startHeartbeat(10_000);
    const s = await sample;
    link.stopHeartbeat();
    assert.equal(s.hostReceiveUs - s.hostSendUs, 300, 'the ack arrived 300 us after the heartbeat went out; the 5 ms after are the host\'s');
    await link.close();
  });

  it('turns an Error reply into a DeviceError with code and field', async () => {
    const { transport } = scriptedDevice((m, send) => send({ requestId: m.requestId, error: { code: ErrorCode.ERROR_CODE_LIMIT_EXCEEDED, message: 'too bright', field: 'config.leds[0].current_ma' } }));
    const link = new Link(transport);
    await assert.rejects(link.request({ configure: { config: {} } }), (e: unknown) => {
      assert.ok(e instanceof DeviceError);
      assert.equal(e.code, 'E_DEVICE_LIMIT_EXCEEDED');
      assert.equal(e.field, 'config.leds[0].current_ma');
      assert.match(e.hint, /limit/);
      return true;
    });
    await link.close();
  });

  it('retries a command that is safe to repeat with the same request id, and only that kind', async () => {
    let seen = 0;
    const { transport, received } = scriptedDevice((m, send) => {
      seen++;
      if (m.body === 'getInfo' && seen >= 2) send({ requestId: m.requestId, deviceInfo: { firmwareName: 'x' } });
    });
    const link = new Link(transport, { requestTimeoutMs: 50, retries: 2 });
    const reply = await link.request({ getInfo: {} });
    assert.equal(reply.deviceInfo?.firmwareName, 'x');
    assert.equal(link.counters.retries, 1);
    assert.equal(received[0]!.requestId, received[1]!.requestId);
    seen = -100;
    await assert.rejects(link.request({ start: {} }), (e: unknown) => e instanceof LinkError && e.code === 'E_TIMEOUT');
    assert.equal(received.filter((m) => m.body === 'start').length, 1, 'Start is never sent twice');
    await link.close();
  });

  it('routes unsolicited messages to stream$ and rejects pending commands when the device goes away', async () => {
    const { transport, device } = scriptedDevice(() => undefined);
    const link = new Link(transport, { requestTimeoutMs: 5000 });
    const got: Envelope[] = [];
    link.stream$.subscribe((m) => got.push(m));
    device.write(frameEnvelope({ status: { running: true } }));
    await new Promise((r) => setImmediate(r));
    assert.equal(got[0]?.body, 'status');
    const pending = link.request({ getInfo: {} });
    device.destroy();
    transport.stream.destroy();
    await assert.rejects(pending, (e: unknown) => e instanceof LinkError && e.code === 'E_LINK_CLOSED');
    assert.equal(link.isOpen, false);
  });
});
