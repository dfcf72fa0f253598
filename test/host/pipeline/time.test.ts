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

  it('formats an undelayed time exactly as toFixed(6) of index / rate (the whole-µs fast path), at every rate dividing 1 MHz and otherwise', () => {
    const undelayed = channel('EEG_V', 0);
    let seed = 12345;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (const rateHz of [1, 3, 100, 256, 1000, 1024, 10_000, 15_625, 48_000, 1e6]) {
      const indices = [0, 1, 2, 999, 1000, 1001, rateHz - 1, rateHz, 86_400 * rateHz + 7];
      for (let i = 0; i < 2000; i++) indices.push(Math.floor(next() * rateHz * 1e9));
      for (const index of indices) {
        assert.equal(formatSignalTime(index, rateHz, undelayed, {}), (index / rateHz).toFixed(6), `index ${index} at ${rateHz} Hz`);
        assert.equal(formatSignalTime(index, rateHz, lockin[0]!, { delayCompensation: false }), (index / rateHz).toFixed(6));
      }
    }
    assert.equal(formatSignalTime(1.5, 1000, undelayed, {}), (0.0015).toFixed(6));
  });

  it('a row of undelayed channels writes the same time text as toFixed(6), in order, out of order and across rate changes (its cached texts)', () => {
    const columns = new ChannelTimeColumns([channel('EEG_V', 0), channel('EMG_V', 0)], {});
    let seed = 777;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (const rateHz of [1000, 10_000, 1000, 3, 100, 1e6, 1000]) {
      const indices: number[] = [];
      for (let i = 0; i < 3000; i++) indices.push(5 * rateHz - 7 + i);
      for (let i = 0; i < 500; i++) indices.push(Math.floor(next() * rateHz * 1e9));
      indices.push(0, 1.5, rateHz * 2e9 + 3);
      for (const index of indices) assert.equal(columns.row(index, rateHz, ['a', 'b']), `${(index / rateHz).toFixed(6)},a,b`, `index ${index} at ${rateHz} Hz`);
    }
    assert.equal(new ChannelTimeColumns([], {}).row(1234, 1000, []), '1.234000');
  });

  it('rows started by startRows get the time text of toFixed(6) from writeNextTime, across whole seconds, rate changes and interleaved writeTime calls; no start where writeTime would refuse', () => {
    const columns = new ChannelTimeColumns([channel('EEG_V', 0), channel('EMG_V', 0)], {});
    const out = new Uint8Array(256 * 1024);
    const view = new DataView(out.buffer);
    const text = (end: number): string => String.fromCharCode(...out.subarray(0, end));
    // a block's rows written in order, each followed by ',' as signal-files writes them (the word stores overrun)
    const block = (first: number, count: number, rateHz: number): void => {
      assert.ok(columns.startRows(first, count, rateHz), `start at ${first}, ${rateHz} Hz`);
      out.fill(0x7e);
      let at = 0;
      const expected: string[] = [];
      for (let k = 0; k < count; k++) {
        at = columns.writeNextTime(view, at);
        out[at++] = 44;
        expected.push(`${((first + k) / rateHz).toFixed(6)},`);
      }
      assert.equal(text(at), expected.join(''), `block at ${first}, ${rateHz} Hz`);
    };
    for (const rateHz of [1000, 1, 100, 10_000, 100_000, 1000]) {
      for (const first of [0, Math.max(0, rateHz - 3), 9 * rateHz - 1, 99_999 * rateHz + rateHz - 2, 1_999_980_000 * rateHz]) {
        block(first, Math.min(2 * rateHz + 5, 5000), rateHz);
        // writeTime in between (another second): the next block still starts right
        assert.equal(text(columns.writeTime(first + 12_345, rateHz, out, 0)), ((first + 12_345) / rateHz).toFixed(6));
      }
    }
    assert.equal(columns.startRows(0, 0, 1000), false);
    assert.equal(columns.startRows(1.5, 10, 1000), false);
    assert.equal(columns.startRows(0, 10, 3), false); // 3 Hz does not divide 1 MHz
    assert.equal(columns.startRows(0, 10, 1e6), false); // above the rates whose texts are cached
    assert.equal(columns.startRows(2e12 - 5, 10, 1000), false); // past the whole-µs range at its end
    assert.equal(new ChannelTimeColumns([channel('a', 0.01)], {}).startRows(0, 10, 1000), false); // shifted: writeTime's putFixed6
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
