// What of a transcript is compared, and what is set aside (and why).
//
// Messages are split by kind into streams compared element by element:
// replies (Ack, Error, DeviceInfo, HeartbeatAck, SelfTestReport,
// CalibrationTable, in the order sent), detector/aux SampleBlocks, LedEvents,
// DigitalEvents and Status. Order *between* streams is not compared: the
// device may interleave a block and a reply either way (the proto promises
// order only within the stream, and Stop's Ack behind the run's blocks, which
// the replies' own sample indices pin).
//
// Set aside, and why (everything else is compared exactly, clocks included,
// since both sides run on the same virtual millisecond clock):
// - Log messages: free text; the firmware also announces power-on, the
//   simulator only a reset (hardware/README.md, "Known differences").
// - Error.message: worded alike, numbers printed differently (same README);
//   Error.code and Error.field are compared.
// - DeviceInfo firmware_name, build_id, board_model, serial_number: each build
//   names itself (fiberrig-sim vs fiberrig-fw, HOST-0001 ...).
// - SelfTestReport item detail: free text, like Error.message; item values
//   are compared at single precision (the C core computes them in float, the
//   Cortex-M4F's FPU width; the simulator in double).
// - Status.buffer_fill: the ring's occupancy at the instant, which depends on
//   the link's throughput and the main loop's cadence (the firmware polls once
//   a millisecond and may queue two small blocks at once where the simulator
//   sends each as it completes), not on behaviour; blocks_dropped and
//   samples_dropped, which say what was lost, are compared.
// - HeartbeatAck.reply_queued_us: how long the reply waited for the link,
//   which depends on the link's pace and the main loop's cadence like
//   buffer_fill (the simulator's link here is infinitely fast; the firmware's
//   lockstep link takes every byte at once unless stalled); the host-side
//   effect of the field is tested in test/host/dsp and test/firmware-sim.
// - SampleBlock samples are compared as codes within +-1 (compare.ts): in
//   LOCK_IN the C core plays its carrier from a 1024-point sine table, the
//   simulator computes the sine (hardware/README.md); both round the same
//   linear model, so a code may land one step apart, never more.
import { type Envelope, pb, samplesView } from '../../protocol/index.ts';
import type { Transcript } from './sim.ts';

export type StreamName = 'replies' | 'blocks' | 'ledEvents' | 'digitalEvents' | 'status';

export type Normalized = Record<StreamName, unknown[]>;

const REPLY_BODIES = new Set(['ack', 'error', 'deviceInfo', 'heartbeatAck', 'selfTestReport', 'calibrationTable']);
const STREAM_OF: Record<string, StreamName> = { sampleBlock: 'blocks', ledEvent: 'ledEvents', digitalEvent: 'digitalEvents', status: 'status' };

function plain(m: Envelope): Record<string, unknown> {
  return pb.Envelope.toObject(m as unknown as InstanceType<typeof pb.Envelope>, {
    longs: String, enums: Number, bytes: String, defaults: true, arrays: true,
  });
}

export function normalize(t: Transcript): Normalized {
  const out: Normalized = { replies: [], blocks: [], ledEvents: [], digitalEvents: [], status: [] };
  for (const m of t.messages) {
    const body = m.body ?? 'none';
    if (body === 'log') continue;
    const o = plain(m);
    const inner = o[body] as Record<string, unknown> | undefined;
    if (body === 'error' && inner) delete inner['message'];
    if (body === 'deviceInfo' && inner) for (const k of ['firmwareName', 'buildId', 'boardModel', 'serialNumber']) delete inner[k];
    if (body === 'selfTestReport' && inner) {
      for (const item of inner['items'] as Array<Record<string, unknown>>) {
        delete item['detail'];
        item['value'] = Math.fround(item['value'] as number);
      }
    }
    if (body === 'status' && inner) delete inner['bufferFill'];
    if (body === 'heartbeatAck' && inner) delete inner['replyQueuedUs'];
    if (body === 'sampleBlock' && inner && m.sampleBlock) {
      const b = m.sampleBlock;
      delete inner['samples'];
      inner['codes'] = Array.from(samplesView(b.format, b.samples, b.channelIds.length, b.sampleCount));
    }
    const stream = REPLY_BODIES.has(body) ? 'replies' : STREAM_OF[body];
    if (!stream) {
      out.replies.push({ unexpectedBody: body, requestId: o['requestId'] });
      continue;
    }
    out[stream].push({ requestId: o['requestId'], [body]: inner });
  }
  return out;
}
