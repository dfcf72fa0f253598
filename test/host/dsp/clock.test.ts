import assert from 'node:assert/strict';
import { ClockFit, type ClockObservation, DspError } from '../../../host/dsp/index.ts';
import { roundTripEventUs } from '../../../host/dsp/clock.ts';
import { rng } from './synth.ts';

const rateHz = 10000;
const offsetUs = 1.7e15 + 123_456.5; // host epoch time of sample 0
const driftPpm = 37.5; // device runs slow: each sample lasts 100.00375 us of host time

function hostOf(sampleIndex: number): number {
  return offsetUs + sampleIndex * (1e6 / rateHz) * (1 + driftPpm * 1e-6);
}

/** Heartbeats once a second for `seconds`, with asymmetric random delays and some outliers. */
function heartbeats(seconds: number, seed = 1): ClockObservation[] {
  const r = rng(seed);
  const obs: ClockObservation[] = [];
  for (let s = 0; s < seconds; s++) {
    const sampleIndex = s * rateHz + Math.floor(r.uniform() * rateHz);
    const deviceEventUs = hostOf(sampleIndex);
    let up = 200 + 2000 * r.uniform(); // host -> device
    let down = 200 + 2000 * r.uniform(); // device -> host
    if (r.uniform() < 0.05) down += 50_000; // a delayed ack (busy host)
    if (r.uniform() < 0.02) up += 30_000; // a delayed command
    obs.push({ deviceTicks: sampleIndex, hostSendUs: deviceEventUs - up, hostRecvUs: deviceEventUs + down });
  }
  return obs;
}

describe('dsp/clock', () => {
  it('recovers 37.5 ppm drift within 0.05 ppm and maps samples to host time within 100 us over 1 h', () => {
    const fit = new ClockFit({ deviceTicksHz: rateHz });
    for (const o of heartbeats(3600)) fit.add(o);
    assert.ok(Math.abs(fit.driftPpm - driftPpm) < 0.05, `drift ${fit.driftPpm}`);
    for (const n of [0, 1e6, 18e6, 36e6]) {
      assert.ok(Math.abs(fit.toHostTimeUs(n) - hostOf(n)) < 100, `n=${n}: ${fit.toHostTimeUs(n) - hostOf(n)} us`);
    }
    assert.ok(Math.abs(fit.offsetUs - offsetUs) < 100);
    assert.ok(Math.abs(fit.toDeviceTicks(hostOf(12_345_678)) - 12_345_678) < 1);
  });

  it('keeps that accuracy (0.1 ppm, 200 us) with a 64-entry reservoir over 10 h', () => {
    const fit = new ClockFit({ deviceTicksHz: rateHz, capacity: 64 });
    for (const o of heartbeats(36000, 3)) fit.add(o);
    assert.equal(fit.observationCount, 36000);
    assert.ok((fit.fit?.used ?? 0) <= 64);
    assert.ok(Math.abs(fit.driftPpm - driftPpm) < 0.1, `drift ${fit.driftPpm}`);
    assert.ok(Math.abs(fit.toHostTimeUs(36e7) - hostOf(36e7)) < 200);
  });

  it('a reply held back behind a large frame (HeartbeatAck.reply_queued_us) no longer biases the estimate', () => {
    // a 1.5 s segment of heartbeats every 50 ms over a symmetric link (150..250 µs each way); every ack waits
    // 0..4 ms on the device behind a 4 KB sample block on a 1 MB/s link, and says so
    const r = rng(11);
    const obs: ClockObservation[] = [];
    for (let k = 0; k < 30; k++) {
      const sampleIndex = k * 500 + Math.floor(r.uniform() * 100);
      const eventUs = hostOf(sampleIndex);
      const oneWayUs = 150 + 100 * r.uniform();
      const queuedUs = Math.round(4000 * r.uniform());
      obs.push({ deviceTicks: sampleIndex, hostSendUs: eventUs - oneWayUs, hostRecvUs: eventUs + queuedUs + oneWayUs, deviceQueuedUs: queuedUs });
    }
    const told = new ClockFit({ deviceTicksHz: rateHz });
    const untold = new ClockFit({ deviceTicksHz: rateHz });
    for (const o of obs) {
      told.add(o);
      untold.add({ deviceTicks: o.deviceTicks, hostSendUs: o.hostSendUs, hostRecvUs: o.hostRecvUs });
    }
    const errorUs = (fit: ClockFit): number => fit.toHostTimeUs(7000) - hostOf(7000);
    assert.ok(Math.abs(errorUs(told)) < 60, `with the wait told: ${errorUs(told)} µs`);
    assert.ok(errorUs(untold) > 500, `without it the acks read as late events by ~half the wait: ${errorUs(untold)} µs`);
    // the stated uncertainty shrinks with it: half of (round trip - wait)
    assert.ok((told.fit?.rmsResidualUs ?? Infinity) < 60, `rms ${told.fit?.rmsResidualUs}`);
  });

  it('a reported wait longer than the round trip is clamped to it (never an event before the heartbeat was sent)', () => {
    const e = roundTripEventUs({ deviceTicks: 0, hostSendUs: 1000, hostRecvUs: 1400, deviceQueuedUs: 9000 });
    assert.deepEqual(e, { midUs: 1000, halfWidthUs: 0 });
    assert.deepEqual(roundTripEventUs({ deviceTicks: 0, hostSendUs: 1000, hostRecvUs: 1400 }), { midUs: 1200, halfWidthUs: 200 });
    assert.throws(() => new ClockFit({ deviceTicksHz: rateHz }).add({ deviceTicks: 0, hostSendUs: 0, hostRecvUs: 1, deviceQueuedUs: Number.NaN }), DspError);
  });

  it('is robust: the Huber fit beats a plain midpoint regression when acks are delayed (error < 1/3)', () => {
    const obs = heartbeats(600, 5);
    const robust = new ClockFit({ deviceTicksHz: rateHz });
    for (const o of obs) robust.add(o);
    // naive unweighted LS on midpoints
    const xs = obs.map((o) => o.deviceTicks);
    const ys = obs.map((o) => (o.hostSendUs + o.hostRecvUs) / 2 - offsetUs);
    const mx = xs.reduce((a, b) => a + b) / xs.length;
    const my = ys.reduce((a, b) => a + b) / ys.length;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < xs.length; i++) {
      sxx += (xs[i]! - mx) ** 2;
      sxy += (xs[i]! - mx) * (ys[i]! - my);
    }
    const naiveOffsetErr = Math.abs(my - (sxy / sxx) * mx);
    const robustOffsetErr = Math.abs(robust.offsetUs - offsetUs);
    assert.ok(robustOffsetErr < naiveOffsetErr / 3, `robust ${robustOffsetErr} us vs naive ${naiveOffsetErr} us`);
  });

  it('states the standard error of the drift honestly: over 400 seeded 7 s segments (70 heartbeats, asymmetric delays) the spread of the estimates is 0.7..1.4x the mean stated error, and 95..100 % lie within 3 stated sigma', () => {
    const estimates: number[] = [];
    const stated: number[] = [];
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      const fit = new ClockFit({ deviceTicksHz: rateHz });
      for (let k = 0; k < 70; k++) {
        const sampleIndex = k * 1000 + Math.floor(r.uniform() * 20);
        const deviceEventUs = hostOf(sampleIndex);
        const up = 30 + 60 * r.uniform();
        const down = 30 + 60 * r.uniform() + (r.uniform() < 0.1 ? 400 * r.uniform() : 0);
        fit.add({ deviceTicks: sampleIndex, hostSendUs: deviceEventUs - up, hostRecvUs: deviceEventUs + down });
      }
      estimates.push(fit.fit!.driftPpm);
      stated.push(fit.fit!.driftStdErrPpm);
    }
    const mean = estimates.reduce((a, b) => a + b) / estimates.length;
    const spread = Math.sqrt(estimates.reduce((a, b) => a + (b - mean) ** 2, 0) / (estimates.length - 1));
    const meanStated = stated.reduce((a, b) => a + b) / stated.length;
    assert.ok(spread / meanStated >= 0.7 && spread / meanStated <= 1.4, `spread ${spread.toFixed(3)} ppm vs stated ${meanStated.toFixed(3)} ppm`);
    const within = estimates.filter((e, i) => Math.abs(e - driftPpm) <= 3 * stated[i]!).length / estimates.length;
    assert.ok(within >= 0.95, `${(within * 100).toFixed(1)} % within 3 sigma`);
    const two = new ClockFit({ deviceTicksHz: rateHz });
    two.add({ deviceTicks: 0, hostSendUs: 0, hostRecvUs: 10 });
    two.add({ deviceTicks: 1000, hostSendUs: 1e5, hostRecvUs: 1e5 + 10 });
    assert.equal(two.fit!.driftStdErrPpm, Infinity);
  });

  it('throws E_DSP_DEGENERATE_FIT before two observations and E_DSP_BAD_INPUT for recv < send', () => {
    const fit = new ClockFit({ deviceTicksHz: rateHz });
    assert.equal(fit.fit, null);
    assert.throws(() => fit.driftPpm, (e: unknown) => e instanceof DspError && e.code === 'E_DSP_DEGENERATE_FIT');
    assert.throws(
      () => fit.add({ deviceTicks: 0, hostSendUs: 10, hostRecvUs: 5 }),
      (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_INPUT',
    );
  });
});
