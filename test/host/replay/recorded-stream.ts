// What a recording's device sent, decoded from its raw log: every SampleBlock,
// DigitalEvent and LedEvent in the order received (for comparing a replayed
// recording with its original, byte for byte).
import { join } from 'node:path';
import { decodeEnvelope, FrameDecoder, SampleSource } from '../../../protocol/index.ts';
import { RawLogReader } from '../../../host/record/rawlog.ts';

export interface RecordedBlock {
  source: 'detector' | 'aux';
  first: number;
  count: number;
  configId: number;
  channelIds: number[];
  samplesHex: string;
}

export interface RecordedStream {
  blocks: RecordedBlock[];
  digital: Array<{ line: number; edge: number; sampleIndex: number; subsampleTicks: number }>;
  led: Array<{ channel: number; currentMa: number; sampleIndex: number }>;
}

export async function readRecordedStream(dir: string): Promise<RecordedStream> {
  const out: RecordedStream = { blocks: [], digital: [], led: [] };
  const decoder = new FrameDecoder((payload) => {
    const m = decodeEnvelope(payload);
    if (m.sampleBlock) {
      const b = m.sampleBlock;
      out.blocks.push({
        source: b.source === SampleSource.SAMPLE_SOURCE_AUX ? 'aux' : 'detector', first: b.firstSampleIndex, count: b.sampleCount, configId: b.configId,
        channelIds: [...b.channelIds], samplesHex: Buffer.from(b.samples).toString('hex'),
      });
    } else if (m.digitalEvent) {
      const e = m.digitalEvent;
      out.digital.push({ line: e.line, edge: e.edge, sampleIndex: e.sampleIndex, subsampleTicks: e.subsampleTicks });
    } else if (m.ledEvent) {
      out.led.push({ channel: m.ledEvent.channel, currentMa: m.ledEvent.currentMa, sampleIndex: m.ledEvent.sampleIndex });
    }
  });
  const reader = await RawLogReader.open(join(dir, 'raw.fjl'));
  for await (const entry of reader.entries()) {
    if (entry.type === 'rx') decoder.push(entry.bytes);
    else if (entry.type === 'link') decoder.reset();
  }
  return out;
}

/** The part of a stream before `cutoffS` of the detector clock (aux blocks by their own rate). */
export function before(stream: RecordedStream, cutoffS: number, rateHz: number, auxRateHz: number): RecordedStream {
  const end = cutoffS * rateHz;
  return {
    blocks: stream.blocks.filter((b) => b.first < cutoffS * (b.source === 'aux' ? auxRateHz : rateHz)),
    digital: stream.digital.filter((e) => e.sampleIndex < end),
    led: stream.led.filter((e) => e.sampleIndex < end),
  };
}
