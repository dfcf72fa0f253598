// Wire overhead of a real acquisition, read back from its raw log: every byte
// the device sent (the raw log's rx records, delimiters included) split into
// frames and attributed to the message kind it carried, plus the host's
// heartbeats (reconstructed exactly from the heartbeat round trips: the ack
// echoes the request id, the record holds the host time sent). Overhead =
// (all bytes on the wire - sample payload bytes) / all bytes on the wire.
//
// For sample blocks the overhead is also split by where it goes: the frame
// delimiter, COBS code bytes, the CRC-32C trailer, the Envelope's tag and
// length, and each SampleBlock field's tag + value (the samples field's own
// tag + length included).
//
// Not counted: the few host commands of a run (Hello, GetInfo, Configure,
// Start, Stop): a few hundred bytes per acquisition.
import {
  CRC_BYTES, decodeEnvelope, encodeEnvelope, encodeFrame, type Envelope, FrameDecoder, pb, SampleSource,
} from '../../protocol/index.ts';
import { RawLogReader } from '../../host/record/rawlog-reader.ts';

export interface KindTally {
  frames: number;
  /** Bytes on the wire, delimiters included. */
  wireBytes: number;
  /** Sample payload bytes (the SampleBlock.samples contents); 0 for other kinds. */
  sampleBytes: number;
}

/** Where one kind of sample block's overhead goes, bytes summed over its blocks. */
export interface BlockOverheadParts {
  delimiter: number;
  cobs: number;
  crc: number;
  envelope: number;
  configId: number;
  source: number;
  firstSampleIndex: number;
  sampleCount: number;
  channelIds: number;
  format: number;
  samplesTagAndLength: number;
}

export interface WireOverhead {
  wireBytes: number;
  sampleBytes: number;
  /** (wireBytes - sampleBytes) / wireBytes, in %. */
  overheadPct: number;
  /** Tallies by kind: 'detector', 'aux' (sample blocks), then Envelope body names ('status', 'heartbeatAck', ...), 'heartbeat (host)'. */
  byKind: Map<string, KindTally>;
  /** Overhead parts of the detector and aux blocks. */
  blockParts: Map<'detector' | 'aux', BlockOverheadParts>;
  /** Frames the decoder dropped (must be 0 for a clean log). */
  rejectedFrames: number;
}

const FIELDS = ['configId', 'source', 'firstSampleIndex', 'sampleCount', 'channelIds', 'format'] as const;

function emptyParts(): BlockOverheadParts {
  return { delimiter: 0, cobs: 0, crc: 0, envelope: 0, configId: 0, source: 0, firstSampleIndex: 0, sampleCount: 0, channelIds: 0, format: 0, samplesTagAndLength: 0 };
}

/** Encoded bytes of one SampleBlock field (tag + value; 0 when it holds the default and is not sent). */
function fieldBytes(block: NonNullable<Envelope['sampleBlock']>, field: (typeof FIELDS)[number]): number {
  return pb.SampleBlock.encode({ [field]: block[field] }).finish().length;
}

/** Reads `rawLogPath` and tallies every frame on the wire. */
export async function measureWireOverhead(rawLogPath: string): Promise<WireOverhead> {
  const byKind = new Map<string, KindTally>();
  const blockParts = new Map<'detector' | 'aux', BlockOverheadParts>([['detector', emptyParts()], ['aux', emptyParts()]]);
  const tally = (kind: string, wireBytes: number, sampleBytes: number): void => {
    const t = byKind.get(kind) ?? { frames: 0, wireBytes: 0, sampleBytes: 0 };
    t.frames++;
    t.wireBytes += wireBytes;
    t.sampleBytes += sampleBytes;
    byKind.set(kind, t);
  };
  const heartbeatAckIds: number[] = [];
  const heartbeatSendUs: number[] = [];
  let frameWireBytes = 0;
  const decoder = new FrameDecoder((payload) => {
    const m = decodeEnvelope(payload);
    const block = m.sampleBlock;
    if (!block) {
      if (m.heartbeatAck) heartbeatAckIds.push(m.requestId);
      tally(m.body ?? 'empty', frameWireBytes, 0);
      return;
    }
    const kind = block.source === SampleSource.SAMPLE_SOURCE_AUX ? 'aux' : 'detector';
    tally(kind, frameWireBytes, block.samples.length);
    const parts = blockParts.get(kind)!;
    const blockBytes = pb.SampleBlock.encode(block).finish().length;
    parts.delimiter += 1;
    parts.crc += CRC_BYTES;
    parts.cobs += frameWireBytes - 1 - (payload.length + CRC_BYTES);
    parts.envelope += payload.length - blockBytes;
    let fields = 0;
    for (const f of FIELDS) {
      const n = fieldBytes(block, f);
      parts[f] += n;
      fields += n;
    }
    parts.samplesTagAndLength += blockBytes - fields - block.samples.length;
  });
  // feed the received bytes one frame at a time, so each payload is matched with its bytes on the wire
  const reader = await RawLogReader.open(rawLogPath);
  let partial: Uint8Array[] = [];
  let partialBytes = 0;
  for await (const entry of reader.entries()) {
    if (entry.type === 'heartbeat') heartbeatSendUs.push(entry.sample.hostSendUs);
    if (entry.type !== 'rx') continue;
    const bytes = entry.bytes;
    let start = 0;
    for (let end = bytes.indexOf(0, start); end !== -1; end = bytes.indexOf(0, start)) {
      frameWireBytes = partialBytes + end + 1 - start;
      for (const p of partial) decoder.push(p);
      decoder.push(bytes.subarray(start, end + 1));
      partial = [];
      partialBytes = 0;
      start = end + 1;
    }
    if (start < bytes.length) {
      partial.push(bytes.slice(start));
      partialBytes += bytes.length - start;
    }
  }
  // host -> device: the heartbeats answered (the ack names the request id, the record the host time sent)
  const answered = Math.min(heartbeatAckIds.length, heartbeatSendUs.length);
  for (let i = 0; i < answered; i++) {
    const frame = encodeFrame(encodeEnvelope({ requestId: heartbeatAckIds[i]!, heartbeat: { hostTimeUs: Math.round(heartbeatSendUs[i]!) } }));
    tally('heartbeat (host)', frame.length, 0);
  }
  let wireBytes = 0;
  let sampleBytes = 0;
  for (const t of byKind.values()) {
    wireBytes += t.wireBytes;
    sampleBytes += t.sampleBytes;
  }
  const c = decoder.counters.rejected;
  return {
    wireBytes, sampleBytes, overheadPct: wireBytes > 0 ? (100 * (wireBytes - sampleBytes)) / wireBytes : 0, byKind, blockParts, rejectedFrames: c.crc + c.cobs + c.oversize,
  };
}
