// Runs a sequence against the simulator, in-process, on its own virtual clock.
// The link is made ideal (every byte leaves at once), as the C firmware's
// lockstep link is, so link pacing never decides what a Status reports.
import { decodeEnvelope, type Envelope, FrameDecoder } from '../../protocol/index.ts';
import { createSimDevice } from '../../firmware-sim/device/create.ts';
import type { Pair } from './boards.ts';
import type { Sequence } from './generate.ts';

export interface Transcript {
  /** Every message the device sent, in order. */
  readonly messages: Envelope[];
  /** Frames the host could not decode or that failed CRC/COBS: a conforming device sends none. */
  readonly badFrames: number;
}

export function collector(): { decoder: FrameDecoder; transcript: Transcript & { badFrames: number } } {
  const transcript = { messages: [] as Envelope[], badFrames: 0 };
  const decoder = new FrameDecoder((payload) => {
    try {
      transcript.messages.push(decodeEnvelope(payload));
    } catch {
      transcript.badFrames++;
    }
  });
  return { decoder, transcript };
}

export function runOnSim(sequence: Sequence, pair: Pair): Transcript {
  const device = createSimDevice({ board: pair.board, scenario: 'linear', seed: 1, linkBytesPerSecond: Number.POSITIVE_INFINITY, outboxBytes: 1 << 24 });
  const { decoder, transcript } = collector();
  const drain = (): void => {
    for (let out = device.read(); out; out = device.read()) decoder.push(out);
  };
  // world time in whole milliseconds, as the firmware's lockstep clock counts it (no float sum drifts)
  let ms = 0;
  for (const step of sequence.steps) {
    if (step.kind === 'send') device.receive(step.bytes);
    else if (step.kind === 'link') device.setHostAttached(step.up);
    else {
      ms += step.ms;
      device.advance(Math.max(0, ms / 1000 - device.worldTimeS));
    }
    drain();
  }
  const r = decoder.counters.rejected;
  transcript.badFrames += r.crc + r.cobs + r.oversize;
  return transcript;
}
