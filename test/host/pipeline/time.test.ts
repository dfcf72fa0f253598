// The exported time base (host/pipeline/time.ts): output time minus each channel's group delay, one
// time column only where it is right for every channel.
import assert from 'node:assert/strict';
import { designLockin, tdmDelayS } from '../../../host/dsp/index.ts';
import { ChannelTimeColumns, formatSignalTime, seriesTimeOffsetsS, sharedTimeShiftS, signalTimeS } from '../../../host/pipeline/time.ts';
import type { SignalChannel } from '../../../host/pipeline/demodulate.ts';

const channel = (name: string, groupDelayS: number): SignalChannel => ({ name, source: 'detector', inputId: 0, voltsPerCode: 1, groupDelayS });

describe('host/pipeline/time: signal times', () => {
  const lockinDelayS = designLockin({ sampleRateHz: 10_000, carriersHz: [648, 1150], detectorCount: 1 }).groupDelayS;
  const tdm = { ledCount: 2, detectorCount: 1, slotSamples: 125, onSamples: 120, settleSamples: 15, windowSamples: 100, darkSlot: true };
  const lockin = [channel('405nm@det0', lockinDelayS), channel('470nm@det0', lockinDelayS)];
  const slots = [channel('405nm@det0', tdmDelayS(tdm, 0, 10_000)), channel('470nm@det0', tdmDelayS(tdm, 1, 10_000))];

  it('subtracts the group delay by default, not when compensation is off', () => {
    assert.equal(signalTimeS(1000, 100, lockin[0]!, {}), 10 - lockinDelayS);
    assert.equal(signalTimeS(1000, 100, lockin[0]!, { delayCompensation: true }), 10 - lockinDelayS);
    assert.equal(signalTimeS(1000, 100, lockin[0]!, { delayCompensation: false }), 10);
    assert.equal(formatSignalTime(1000, 100, lockin[0]!, {}), (10 - lockinDelayS).toFixed(6));
    // time division: the LED's window lies after the cycle start, so its time is later than the output's
    assert.equal(signalTimeS(20, 20, slots[1]!, {}), 1 + (125 + 15 + 49.5) / 10_000);
  });

  it('one time column when the channels share their delay (lock-in), one per channel when not (TDM slots)', () => {
    assert.equal(sharedTimeShiftS(lockin, {}), lockinDelayS);
    assert.equal(sharedTimeShiftS(slots, {}), undefined);
    assert.equal(sharedTimeShiftS(slots, { delayCompensation: false }), 0);
    const shared = new ChannelTimeColumns(lockin, {});
    assert.deepEqual(shared.header(), ['time_s', '405nm@det0', '470nm@det0']);
    assert.equal(shared.row(100, 100, ['1', '2']), `${(1 - lockinDelayS).toFixed(6)},1,2`);
    const perChannel = new ChannelTimeColumns(slots, {});
    assert.deepEqual(perChannel.header(), ['405nm@det0_time_s', '405nm@det0', '470nm@det0_time_s', '470nm@det0']);
    assert.equal(perChannel.row(20, 20, ['1', '2']), '1.006450,1,1.018950,2');
    const raw = new ChannelTimeColumns(slots, { delayCompensation: false });
    assert.deepEqual(raw.header(), ['time_s', '405nm@det0', '470nm@det0']);
    assert.equal(raw.row(20, 20, ['1', '2']), '1.000000,1,2');
  });

  it('series offsets: 0 for a shared delay, the window spacing for TDM slots', () => {
    assert.deepEqual(seriesTimeOffsetsS(lockin, {}), [0, 0]);
    const [a, b] = seriesTimeOffsetsS(slots, {});
    assert.equal(a, 0);
    assert.ok(Math.abs(b! - 0.0125) < 1e-15, `${b}`);
    assert.deepEqual(seriesTimeOffsetsS(slots, { delayCompensation: false }), [0, 0]);
  });
});
