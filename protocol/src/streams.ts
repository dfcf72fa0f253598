// Node stream adapters: bytes <-> frames <-> Envelopes. The lossless path
// (serial port -> raw log) is built from these, so they honour backpressure.
import { Transform, type TransformCallback } from 'node:stream';
import { encodeFrame, FrameDecoder, type FrameCounters } from './frame.ts';
import { decodeEnvelope, encodeEnvelope, type Envelope, type EnvelopeInit } from './messages.ts';

export interface DecodeCounters extends FrameCounters {
  /** Frames with a good CRC that did not decode as an Envelope. */
  decodeErrors: number;
}

/** bytes in -> Envelope objects out. Bad frames and undecodable payloads are counted and dropped. */
export class EnvelopeDecoderStream extends Transform {
  readonly counters: DecodeCounters;
  private readonly decoder: FrameDecoder;

  constructor() {
    super({ readableObjectMode: true });
    this.decoder = new FrameDecoder((payload) => {
      let message: Envelope;
      try {
        message = decodeEnvelope(payload);
      } catch {
        this.counters.decodeErrors++;
        return;
      }
      this.push(message);
    });
    this.counters = Object.assign(this.decoder.counters, { decodeErrors: 0 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.decoder.push(chunk);
    callback();
  }
}

/** Envelope objects in -> framed bytes out. */
export class EnvelopeEncoderStream extends Transform {
  constructor() {
    super({ writableObjectMode: true });
  }

  override _transform(message: EnvelopeInit, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      callback(null, encodeFrame(encodeEnvelope(message)));
    } catch (error) {
      callback(error as Error);
    }
  }
}

/** One Envelope as one frame, ready to write to a port. */
export function frameEnvelope(message: EnvelopeInit): Uint8Array {
  return encodeFrame(encodeEnvelope(message));
}
