// Test scaffolding: a minimal host over any byte stream (SerialPortStream,
// SerialPort on a pty, net.Socket): framed commands out, Envelopes in.
import type { Duplex } from 'node:stream';
import {
  EnvelopeDecoderStream, type Envelope, type EnvelopeInit, frameEnvelope, PROTOCOL_VERSION, SampleSource,
} from '../../../protocol/index.ts';

type Body = Omit<EnvelopeInit, 'requestId'>;

export class StreamClient {
  readonly received: Envelope[] = [];
  readonly decoder = new EnvelopeDecoderStream();
  private nextId = 1;
  private waiters: Array<() => void> = [];

  constructor(readonly stream: Duplex) {
    stream.pipe(this.decoder);
    this.decoder.on('data', (m: Envelope) => {
      this.received.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(body: Body): number {
    const id = this.nextId++;
    this.stream.write(frameEnvelope({ requestId: id, ...body }));
    return id;
  }

  /** Resolves when `predicate` holds over the received messages; rejects after timeoutMs. */
  waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const v = predicate();
        if (v) {
          clearTimeout(timer);
          resolve(v);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== loop);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const loop = (): void => {
        if (!check()) this.waiters.push(loop);
      };
      loop();
    });
  }

  async request(body: Body, timeoutMs = 10_000): Promise<Envelope> {
    const id = this.send(body);
    return this.waitFor(() => this.received.find((m) => m.requestId === id), timeoutMs, `reply to ${Object.keys(body)[0]}`);
  }

  hello(): Promise<Envelope> {
    return this.request({ hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'transport test' } });
  }

  detectorBlocks(): NonNullable<Envelope['sampleBlock']>[] {
    return this.received.filter((m) => m.body === 'sampleBlock' && m.sampleBlock!.source === SampleSource.SAMPLE_SOURCE_DETECTOR).map((m) => m.sampleBlock!);
  }

  /** Sum of samples in contiguous detector blocks from 0; throws on the first discontinuity. */
  continuousDetectorSamples(): number {
    let next = 0;
    for (const b of this.detectorBlocks()) {
      if (b.firstSampleIndex !== next) throw new Error(`discontinuity: block at ${b.firstSampleIndex}, expected ${next}`);
      next += b.sampleCount;
    }
    return next;
  }
}

/**
 * A session on `stream` (hello, configure with `config`, start) that runs until the stream closes, as a
 * disconnect fault ends it: the client (what arrived before) and whether the close said "disconnected".
 */
export async function runUntilUnplugged(stream: Duplex, config: NonNullable<Body['configure']>['config']): Promise<{ client: StreamClient; disconnected: boolean }> {
  const client = new StreamClient(stream);
  const closed = new Promise<Error | null>((resolve) => stream.once('close', (e: Error | null) => resolve(e)));
  await client.hello();
  await client.request({ configure: { config } });
  await client.request({ start: {} });
  const why = await closed;
  return { client, disconnected: why !== null && (why as { disconnected?: boolean }).disconnected === true };
}
