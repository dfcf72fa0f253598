// What a recording's device sent, decoded from its raw log: every SampleBlock,
// DigitalEvent and LedEvent in the order received (for comparing a replayed
// recording with its original, byte for byte).
import { join } from 'node:path';
import { decodeEnvelope, FrameDecoder, SampleSource } from '../../../protocol/index.ts';
import { RawLogReader } from '../../../host/record/rawlog.ts';

export interface RecordedBlock {
  /** The run (0: after the first Start's Ack, 1: after the next one, …). */
  run: number;
  source: 'detector' | 'aux';
  first: number;
  count: number;
  configId: number;
  channelIds: number[];
  samplesHex: string;
}

export interface RecordedStream {
  blocks: RecordedBlock[];
  digital: Array<{ run: number; line: number; edge: number; sampleIndex: number; subsampleTicks: number }>;
  led: Array<{ run: number; channel: number; currentMa: number; sampleIndex: number }>;
}

export async function readRecordedStream(dir: string): Promise<RecordedStream> {
  const out: RecordedStream = { blocks: [], digital: [], led: [] };
  const starts = new Set<number>();
  let run = -1;
  const decoder = new FrameDecoder((payload) => {
    const m = decodeEnvelope(payload);
    if (m.ack && starts.delete(m.requestId)) run++;
    if (run < 0) return;
    if (m.sampleBlock) {
      const b = m.sampleBlock;
      out.blocks.push({
        run, source: b.source === SampleSource.SAMPLE_SOURCE_AUX ? 'aux' : 'detector', first: b.firstSampleIndex, count: b.sampleCount, configId: b.configId,
        channelIds: [...b.channelIds], samplesHex: Buffer.from(b.samples).toString('hex'),
      });
    } else if (m.digitalEvent) {
      const e = m.digitalEvent;
      out.digital.push({ run, line: e.line, edge: e.edge, sampleIndex: e.sampleIndex, subsampleTicks: e.subsampleTicks });
    } else if (m.ledEvent) {
      out.led.push({ run, channel: m.ledEvent.channel, currentMa: m.ledEvent.currentMa, sampleIndex: m.ledEvent.sampleIndex });
    }
  });
  const reader = await RawLogReader.open(join(dir, 'raw.fjl'));
  for await (const entry of reader.entries()) {
    if (entry.type === 'intent' && entry.intent.command === 'start') starts.add(entry.intent.requestId);
    if (entry.type === 'rx') decoder.push(entry.bytes);
    else if (entry.type === 'link') decoder.reset();
  }
  return out;
}

/**
 * The part of a stream before session time `cutoffS`: every run before the
 * last whole, the last one (which began at session time `lastRunStartS`) up to
 * the cutoff (detector clock; aux blocks by their own rate).
 */
export function before(stream: RecordedStream, cutoffS: number, rateHz: number, auxRateHz: number, lastRunStartS = 0): RecordedStream {
  const last = Math.max(-1, ...stream.blocks.map((b) => b.run));
  const keepS = cutoffS - lastRunStartS;
  const keep = (run: number, index: number, rate: number): boolean => run < last || index < keepS * rate;
  return {
    blocks: stream.blocks.filter((b) => keep(b.run, b.first, b.source === 'aux' ? auxRateHz : rateHz)),
    digital: stream.digital.filter((e) => keep(e.run, e.sampleIndex, rateHz)),
    led: stream.led.filter((e) => keep(e.run, e.sampleIndex, rateHz)),
  };
}
