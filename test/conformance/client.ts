// A bare host for the conformance suite: framed commands out, every device
// message in (in arrival order), through the same transport seam the host
// uses (openTransport: serial paths, sim://, tcp://). No heartbeats unless a
// test sends them, so the watchdog can be tested.
import assert from 'node:assert/strict';
import {
  decodeEnvelope, type Envelope, type EnvelopeInit, encodeFrame, ErrorCode, FrameDecoder, frameEnvelope, PROTOCOL_VERSION, SampleSource,
} from '../../protocol/index.ts';
import { openTransport, type Transport } from '../../host/transport/open.ts';

export type Body = Omit<EnvelopeInit, 'requestId'>;
export type Block = NonNullable<Envelope['sampleBlock']>;

export class DeviceClient {
  readonly received: Envelope[] = [];
  /** Largest payload (encoded Envelope) received, bytes. */
  maxPayloadBytes = 0;
  decodeErrors = 0;
  private readonly decoder: FrameDecoder;
  private waiters: Array<() => void> = [];
  private nextId = 1;
  private closed = false;

  private constructor(readonly transport: Transport) {
    this.decoder = new FrameDecoder((payload) => {
      if (payload.length > this.maxPayloadBytes) this.maxPayloadBytes = payload.length;
      try {
        this.received.push(decodeEnvelope(payload));
      } catch {
        this.decodeErrors++;
      }
      for (const w of this.waiters.splice(0)) w();
    });
    transport.stream.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    transport.stream.on('error', () => undefined);
  }

  static async open(url: string): Promise<DeviceClient> {
    return new DeviceClient(await openTransport(url));
  }

  /** Frames the host side rejected (bad CRC, COBS, oversize): a conforming device sends none. */
  get hostRejected(): { crc: number; oversize: number; cobs: number } {
    return { ...this.decoder.counters.rejected };
  }

  send(body: Body, requestId = this.allocateId()): number {
    this.transport.stream.write(frameEnvelope({ requestId, ...body }));
    return requestId;
  }

  sendRaw(bytes: Uint8Array): void {
    this.transport.stream.write(bytes);
  }

  allocateId(): number {
    return this.nextId++;
  }

  /** Resolves when `predicate` returns a value over the received messages. */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const v = predicate();
        if (v) {
          clearTimeout(timer);
          clearInterval(poll);
          resolve(v);
          return true;
        }
        return false;
      };
      const loop = (): void => {
        if (!check()) this.waiters.push(loop);
      };
      const timer = setTimeout(() => {
        clearInterval(poll);
        this.waiters = this.waiters.filter((w) => w !== loop);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const poll = setInterval(check, 20); // predicates may depend on time too
      loop();
    });
  }

  /** Sends a command and returns its reply (an Error reply is returned, not thrown). */
  async request(body: Body, timeoutMs = 5000): Promise<Envelope> {
    const id = this.send(body);
    return this.waitFor(() => this.received.find((m) => m.requestId === id), timeoutMs, `the reply to ${Object.keys(body)[0]} #${id}`);
  }

  /** Sends a command that must be acked; returns the Ack. */
  async ack(body: Body, timeoutMs = 5000): Promise<NonNullable<Envelope['ack']>> {
    const reply = await this.request(body, timeoutMs);
    assert.equal(reply.body, 'ack', `${Object.keys(body)[0]} was refused: ${JSON.stringify(reply.error)}`);
    return reply.ack!;
  }

  /** Sends a command that must be refused with `code` naming `field`; returns the Error. */
  async refused(body: Body, code: number, field: string): Promise<NonNullable<Envelope['error']>> {
    const reply = await this.request(body);
    const what = `${Object.keys(body)[0]}: expected ${ErrorCode[code]} (${field})`;
    assert.equal(reply.body, 'error', `${what}, got ${reply.body} ${JSON.stringify(reply[reply.body as keyof Envelope])}`);
    const e = reply.error!;
    assert.equal(ErrorCode[e.code], ErrorCode[code], `${what}, got ${ErrorCode[e.code]} (${e.field}): ${e.message}`);
    assert.equal(e.field, field, `${what}, got field "${e.field}": ${e.message}`);
    assert.ok(e.message.length > 0, 'an Error carries a message');
    return e;
  }

  async hello(): Promise<NonNullable<Envelope['deviceInfo']>> {
    const reply = await this.request({ hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'fiberrig conformance' } });
    assert.equal(reply.body, 'deviceInfo', `Hello answered with ${reply.body}: ${JSON.stringify(reply.error)}`);
    return reply.deviceInfo!;
  }

  /**
   * Resets the device and handshakes again: afterwards it is stopped, not
   * configured, its queues are empty, and its calibration is what it stored.
   * Waits for the boot announcement (a Log starting "reset (command)") before
   * sending Hello: an MCU drops bytes that arrive before its UART is up.
   */
  async resetDevice(): Promise<NonNullable<Envelope['deviceInfo']>> {
    const mark = this.received.length;
    const reply = await this.request({ reset: {} });
    assert.equal(reply.body, 'ack', `Reset answered with ${reply.body}`);
    await this.waitFor(
      () => this.received.slice(mark).find((m) => m.body === 'log' && m.log!.message.startsWith('reset (command)')),
      10_000, 'the boot Log after Reset',
    );
    return this.hello();
  }

  since(mark: number): Envelope[] {
    return this.received.slice(mark);
  }

  blocks(source = SampleSource.SAMPLE_SOURCE_DETECTOR, from = 0): Block[] {
    const out: Block[] = [];
    for (let i = from; i < this.received.length; i++) {
      const b = this.received[i]!.sampleBlock;
      if (b && b.source === source) out.push(b);
    }
    return out;
  }

  /** Samples delivered contiguously from index 0 of the run started at message `from`. */
  contiguousSamples(from: number, source = SampleSource.SAMPLE_SOURCE_DETECTOR): number {
    let next = 0;
    for (const b of this.blocks(source, from)) {
      if (b.firstSampleIndex !== next) break;
      next += b.sampleCount;
    }
    return next;
  }

  /** Waits for the next Status sent after now. */
  async nextStatus(timeoutMs = 5000): Promise<NonNullable<Envelope['status']>> {
    const mark = this.received.length;
    const m = await this.waitFor(() => this.received.slice(mark).find((x) => x.body === 'status'), timeoutMs, 'a Status');
    return m.status!;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.transport.close().catch(() => undefined);
    this.transport.stream.destroy();
  }
}

/** Frames arbitrary payload bytes (CRC-32C and COBS done right). */
export function rawFrame(payload: Uint8Array): Uint8Array {
  return encodeFrame(payload);
}

/**
 * A frame whose CRC is right but whose payload is not an Envelope (field 1
 * with the invalid wire type 7, then a truncated varint): the device must
 * answer FRAME_ERROR.
 */
export function undecodableFrame(): Uint8Array {
  return rawFrame(new Uint8Array([0x0f, 0xff, 0xff, 0xff]));
}
