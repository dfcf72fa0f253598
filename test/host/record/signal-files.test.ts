// signals.csv / aux.csv text (host/record/signal-files.ts): aux rows written as bytes from cached
// pieces read exactly as the plain text formatting would write them.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignalBlock, SignalChannel } from '../../../host/pipeline/demodulate.ts';
import { SignalFiles } from '../../../host/record/signal-files.ts';
import { formatVolts } from '../../../host/record/text-file.ts';

const aux = (name: string, voltsPerCode: number): SignalChannel => ({ name, source: 'aux', inputId: 0, voltsPerCode, groupDelayS: 0 });

describe('host/record/signal-files: aux.csv text', () => {
  let dir = '';
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'fiberrig-signal-files-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('writes toFixed(6) times and formatVolts(code x scale) values, for codes, NaN, non-codes, a rate change and times past the cached range', async () => {
    const channels = [aux('EEG', 3.3 / 65536 / 1000), aux('EMG', 1e-7)];
    const files = await SignalFiles.create(dir);
    const expected: string[] = ['time_s,EEG_V,EMG_V'];
    let seed = 99;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const blocks: Array<{ rateHz: number; firstIndex: number; count: number }> = [
      { rateHz: 1000, firstIndex: 0, count: 25 }, { rateHz: 1000, firstIndex: 25, count: 2000 }, { rateHz: 1000, firstIndex: 86_400_000 - 3, count: 10 },
      { rateHz: 3, firstIndex: 7, count: 9 }, { rateHz: 1000, firstIndex: 2e12 - 5, count: 10 }, { rateHz: 1024, firstIndex: 4, count: 5 },
    ];
    for (const b of blocks) {
      const values = channels.map(() => Float64Array.from({ length: b.count }, (_, k) => {
        const r = next();
        if (r < 0.02) return Number.NaN;
        if (r < 0.04) return 40_000 + k; // beyond a 16-bit code
        if (r < 0.06) return k + 0.25; // not a code
        return Math.floor((next() - 0.5) * 65536);
      }));
      const block: SignalBlock = { stream: 'aux', rateHz: b.rateHz, firstIndex: b.firstIndex, count: b.count, channels, values };
      files.writeSignals(block);
      for (let k = 0; k < b.count; k++) {
        expected.push([((b.firstIndex + k) / b.rateHz).toFixed(6), ...values.map((v, c) => formatVolts(v[k]! * channels[c]!.voltsPerCode))].join(','));
      }
    }
    await files.close();
    assert.equal(await readFile(join(dir, 'aux.csv'), 'utf8'), `${expected.join('\n')}\n`);
  });

  it('a block larger than the file buffer (room() grows it) between small ones: every row as the text formatting writes it, in order', async () => {
    const channels = [aux('EEG', 1e-7), aux('EMG', 2e-7)];
    const files = await SignalFiles.create(dir);
    const expected: string[] = ['time_s,EEG_V,EMG_V'];
    // 60000 rows of up to ~50 bytes: more than the writer's 768 KiB buffer
    const blocks = [{ firstIndex: 0, count: 7 }, { firstIndex: 7, count: 60_000 }, { firstIndex: 60_007, count: 5 }, { firstIndex: 60_012, count: 3 }];
    for (const b of blocks) {
      const values = channels.map((_, c) => Float64Array.from({ length: b.count }, (_v, k) => ((b.firstIndex + k) * (c + 7)) % 65536 - 32768));
      files.writeSignals({ stream: 'aux', rateHz: 1000, firstIndex: b.firstIndex, count: b.count, channels, values });
      for (let k = 0; k < b.count; k++) {
        expected.push([((b.firstIndex + k) / 1000).toFixed(6), ...values.map((v, c) => formatVolts(v[k]! * channels[c]!.voltsPerCode))].join(','));
      }
    }
    await files.close();
    assert.equal(await readFile(join(dir, 'aux.csv'), 'utf8'), `${expected.join('\n')}\n`);
  });
});
