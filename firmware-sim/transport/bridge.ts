// Connects a simulated device to a byte stream (a TCP socket, the device end
// of a pty): bytes in go to the device, the device's output is written out
// with backpressure (when the stream's buffer is full the device's link
// stalls, as a real device's does when the host stops reading).
import type { Duplex } from 'node:stream';
import type { SimDevice } from '../device/device.ts';
import type { Pacer } from './pacer.ts';

/** A Node duplex byte stream (a net.Socket, a SerialPort). */
export type ByteStream = Duplex;

const LOW_WATER_BYTES = 16 * 1024;
const CHUNK_BYTES = 64 * 1024;

export class DeviceStreamBridge {
  private stream: ByteStream | null = null;
  private blocked = false;
  private flushing = false;
  private readonly onData = (chunk: Buffer): void => this.device.receive(chunk);
  private readonly onDrain = (): void => {
    this.blocked = false;
    this.flush();
    this.pacer.demand();
  };

  constructor(
    readonly device: SimDevice,
    readonly pacer: Pacer,
  ) {
    pacer.setWants(() => this.stream !== null && !this.blocked && device.outbox.length < LOW_WATER_BYTES);
  }

  get attached(): boolean {
    return this.stream !== null;
  }

  attach(stream: ByteStream): void {
    this.detach();
    this.stream = stream;
    this.blocked = false;
    stream.on('data', this.onData);
    this.device.outbox.onReadable = () => this.flush();
    this.device.setHostAttached(true);
    this.flush();
  }

  /** Stops exchanging bytes; the device keeps running with its link stalled. */
  detach(): void {
    const s = this.stream;
    if (!s) return;
    this.stream = null;
    s.off('data', this.onData);
    s.off('drain', this.onDrain);
    this.device.outbox.onReadable = null;
    this.device.setHostAttached(false);
  }

  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.stream && !this.blocked) {
        const chunk = this.device.read(CHUNK_BYTES);
        if (!chunk) break;
        if (!this.stream.write(chunk)) {
          this.blocked = true;
          this.stream.once('drain', this.onDrain);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
