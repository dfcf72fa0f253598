// What the device reports about itself: Status (sent every status interval and
// on request), the SelfTest report, and the counters and readings behind them
// (sample index, LED currents now, dark reason, rejected frames).
import { DarkReason, type EnvelopeInit, SelfTestOutcome } from '../../protocol/index.ts';
import type { DeviceCore } from './core.ts';
import { heartbeatAgeMs } from './watchdog.ts';

export interface FrameRejections {
  crc: number;
  oversize: number;
  cobs: number;
  decode: number;
}

/** Next detector sample index (0 when stopped). */
export function sampleIndexOf(core: DeviceCore): number {
  return core.run.running ? core.run.samplesTaken(core.clock.devS) : 0;
}

export function darkReasonOf(core: DeviceCore): number {
  if (!core.run.running) return DarkReason.DARK_REASON_STOPPED;
  if (core.run.tripped) return DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT;
  return DarkReason.DARK_REASON_NONE;
}

export function frameRejectionsOf(core: DeviceCore): FrameRejections {
  const r = core.session.decoder.counters.rejected;
  return { crc: r.crc, oversize: r.oversize, cobs: r.cobs, decode: core.session.decodeErrors };
}

/** Effective LED currents now (board order, mA): 0 when stopped or dark. */
export function ledCurrentsNowOf(core: DeviceCore): Float64Array {
  const out = new Float64Array(core.board.leds.length);
  const cfg = core.session.config;
  const run = core.run;
  if (!cfg || !run.running) return out;
  const peaks = run.peaksAt(run.samplesTaken(core.clock.devS));
  cfg.leds.forEach((l, k) => {
    out[l.boardIndex] = peaks[k]!;
  });
  return out;
}

/** Status as the device would send it now. */
export function statusOf(core: DeviceCore): NonNullable<EnvelopeInit['status']> {
  const { board, session, run } = core;
  const now = ledCurrentsNowOf(core);
  let sumMa = 0;
  for (const v of now) sumMa += v;
  const r = frameRejectionsOf(core);
  return {
    sampleIndex: sampleIndexOf(core),
    deviceTimeUs: core.clock.deviceTimeUs,
    running: run.running,
    configId: session.configId,
    bufferFill: core.uplink.bufferedBlocks / board.bufferBlocks,
    blocksDropped: run.blocksDropped,
    samplesDropped: run.samplesDropped,
    framesRejected: { crc: r.crc, oversize: r.oversize, cobs: r.cobs, decode: r.decode },
    leds: board.leds.map((l, i) => ({
      channel: l.id, currentMa: now[i]!, powerUw: session.calibration.powerForCurrent(l.id, now[i]!),
    })),
    temperatureC: board.ambientTemperatureC + 0.05 * sumMa,
    heartbeatAgeMs: heartbeatAgeMs(core),
    darkReason: session.config ? darkReasonOf(core) : DarkReason.DARK_REASON_STOPPED,
    resets: core.nv.resets,
  };
}

type SelfTestItems = NonNullable<NonNullable<EnvelopeInit['selfTestReport']>['items']>;

export function selfTestItemsOf(core: DeviceCore): SelfTestItems {
  const { board, nv, run } = core;
  const O = SelfTestOutcome;
  const rejected = frameRejectionsOf(core);
  const totalRejected = rejected.crc + rejected.oversize + rejected.cobs + rejected.decode;
  const calStored = nv.hasCalibration;
  const calIntact = nv.calibrationIntact();
  const hbMs = core.session.config?.heartbeatTimeoutMs ?? board.defaultHeartbeatTimeoutMs;
  return [
    { name: 'firmware', outcome: O.SELF_TEST_OUTCOME_PASS, detail: `${board.firmwareName} ${board.firmwareVersion}`, value: 0, unit: '' },
    { name: 'led_driver', outcome: O.SELF_TEST_OUTCOME_NOT_APPLICABLE, detail: 'simulated driver: no current sense', value: 0, unit: '' },
    { name: 'adc', outcome: O.SELF_TEST_OUTCOME_NOT_APPLICABLE, detail: 'simulated ADC: no reference input', value: board.detectors[0]?.adcBits ?? 0, unit: 'bit' },
    {
      name: 'buffer', outcome: run.blocksDropped > 0 ? O.SELF_TEST_OUTCOME_WARN : O.SELF_TEST_OUTCOME_PASS,
      detail: run.blocksDropped > 0 ? `${run.blocksDropped} blocks dropped this run` : `${board.bufferBlocks} blocks, none dropped`,
      value: run.blocksDropped, unit: 'blocks',
    },
    {
      name: 'calibration_crc',
      outcome: !calStored ? O.SELF_TEST_OUTCOME_WARN : calIntact ? O.SELF_TEST_OUTCOME_PASS : O.SELF_TEST_OUTCOME_FAIL,
      detail: !calStored ? 'no calibration stored: power_uw unavailable' : calIntact ? 'stored table matches its CRC' : 'stored table fails its CRC',
      value: 0, unit: '',
    },
    {
      name: 'nv_storage', outcome: nv.failReads || nv.failWrites ? O.SELF_TEST_OUTCOME_FAIL : O.SELF_TEST_OUTCOME_PASS,
      detail: nv.failReads || nv.failWrites ? 'flash access fails' : `resets ${nv.resets}`, value: nv.resets, unit: '',
    },
    {
      name: 'watchdog', outcome: run.everTripped ? O.SELF_TEST_OUTCOME_WARN : O.SELF_TEST_OUTCOME_PASS,
      detail: run.everTripped ? 'heartbeat timeout tripped this run' : 'heartbeat watchdog armed', value: hbMs, unit: 'ms',
    },
    {
      name: 'link', outcome: totalRejected > 0 ? O.SELF_TEST_OUTCOME_WARN : O.SELF_TEST_OUTCOME_PASS,
      detail: totalRejected > 0 ? `${totalRejected} frames rejected` : 'no frames rejected', value: totalRejected, unit: 'frames',
    },
    { name: 'temperature', outcome: O.SELF_TEST_OUTCOME_PASS, detail: 'board sensor', value: statusOf(core).temperatureC ?? 0, unit: 'C' },
  ];
}
