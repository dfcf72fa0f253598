// The mirror's window publisher against a real nats-server: each publish resolves with its own
// PubAck (a retry with the same message id is a duplicate, stored once), a subject no stream takes
// is refused (no responders), and a publish with no answer (the broker away) times out.
import assert from 'node:assert/strict';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectBroker, ensureRawStream } from '../../../host/lab/broker.ts';
import { RAW_STREAM } from '../../../host/lab/layout.ts';
import { WindowPublisher } from '../../../host/lab/window-publisher.ts';
import { NatsServer, natsServerMissing } from '../../support/nats-server.ts';
import { requireTool } from '../../support/required-tool.ts';

describe('lab: window publisher', function () {
  this.timeout(30_000);
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  after(async () => {
    await nc?.close().catch(() => undefined);
    await server?.dispose();
  });

  it('a PubAck per publish, 300 in flight at once; a duplicate id stored once; no stream refused; no answer times out', async function () {
    requireTool(this, natsServerMissing(), 'add "nats-server" to DEB_PACKAGES in .ci/run');
    server = await NatsServer.start();
    nc = await connectBroker({ url: server.url });
    await ensureRawStream(nc);
    const publisher = new WindowPublisher(nc, 20);
    const send = (subject: string, id: string, timeout = 2000) => publisher.publish(subject, new Uint8Array([1, 2, 3]), { msgID: id, headers: headers(), timeout });
    const acks = await Promise.all(Array.from({ length: 300 }, (_, i) => send('fiberrig.raw.r.s', `r.s.${i}`)));
    assert.deepEqual(acks.map((a) => a.seq), Array.from({ length: 300 }, (_, i) => i + 1));
    assert.ok(acks.every((a) => !a.duplicate));
    const again = await send('fiberrig.raw.r.s', 'r.s.7');
    assert.equal(again.duplicate, true);
    assert.equal((await (await jetstreamManager(nc)).streams.info(RAW_STREAM)).state.messages, 300);
    await assert.rejects(send('not.a.stream', 'x.1'), (e: Error & { code?: string }) => e.code === 'E_LAB_PUBLISH' && /503/.test(e.message));
    await server.kill();
    await assert.rejects(send('fiberrig.raw.r.s', 'r.s.300', 300), (e: Error & { code?: string }) => e.code === 'E_LAB_PUBLISH_TIMEOUT');
    const pending = send('fiberrig.raw.r.s', 'r.s.301', 60_000);
    publisher.close();
    await assert.rejects(pending, (e: Error & { code?: string }) => e.code === 'E_LAB_PUBLISH_CLOSED');
  });
});
