import assert from 'node:assert/strict';
import {
  cohenKappa, formatHypnogramCsv, matchEvents, parseHypnogramCsv, SleepError, type SleepState,
} from '../../../../host/analysis/sleep/index.ts';

/** Asserts a SleepError E_HYPNOGRAM_FORMAT at `line` whose message matches `re`. */
function rejects(text: string, line: number, re: RegExp, options = {}): void {
  assert.throws(() => parseHypnogramCsv(text, options), (e: unknown) => {
    assert.ok(e instanceof SleepError, String(e));
    assert.equal(e.code, 'E_HYPNOGRAM_FORMAT');
    assert.equal(e.line, line);
    assert.match(e.message, new RegExp(`line ${line}:`));
    assert.match(e.message, re);
    return true;
  });
}

describe('hypnogram CSV import', () => {
  it('header start_s,state with comments, blank lines, CRLF and a BOM; epoch length from the times', () => {
    const h = parseHypnogramCsv('\uFEFF# scored by hand\r\nstart_s,state\r\n100,Wake\r\n\r\n104,NREM\r\n108,rem\r\n');
    assert.deepEqual(h, { epochS: 4, startS: 100, states: ['wake', 'nrem', 'rem'] });
  });

  it('header in any column order with extra columns, semicolons, quoted cells, short labels W/NR/R', () => {
    const h = parseHypnogramCsv('scorer;state;time_s\n"ab";W;0\nab;NR;10\nab;R;20\n');
    assert.deepEqual(h, { epochS: 10, startS: 0, states: ['wake', 'nrem', 'rem'] });
  });

  it('one column of states without header needs epochS; numeric lab codes through stateLabels', () => {
    const h = parseHypnogramCsv('1\n2\n2\n3\n', { epochS: 4, stateLabels: { 1: 'wake', 2: 'nrem', 3: 'rem' } });
    assert.deepEqual(h, { epochS: 4, startS: 0, states: ['wake', 'nrem', 'nrem', 'rem'] });
    assert.throws(() => parseHypnogramCsv('wake\nnrem\n'), { code: 'E_HYPNOGRAM_FORMAT', message: /pass epochS/ });
  });

  it('tab-separated two columns without header', () => {
    assert.deepEqual(parseHypnogramCsv('0\twake\n4\tnrem\n').states, ['wake', 'nrem']);
  });

  it('round trip: formatHypnogramCsv then parse gives the same hypnogram', () => {
    const states: SleepState[] = ['wake', 'nrem', 'nrem', 'rem', 'wake'];
    const h = { epochS: 2.5, startS: 12.5, states };
    assert.deepEqual(parseHypnogramCsv(formatHypnogramCsv(h)), h);
  });

  it('bad input is a typed error naming the line', () => {
    rejects('start_s,state\n0,wake\n4,sleepy\n', 3, /unknown state "sleepy"/);
    rejects('start_s,state\n0,wake\n4,nrem\n12,nrem\n', 4, /expected 8 s/);
    rejects('start_s,state\n0,wake\nfour,nrem\n', 3, /not a number/);
    rejects('start_s,state\n0,wake\n4,\n', 3, /no state/);
    rejects('# c\n0,wake,x\n', 2, /3 columns and no header/);
    rejects('start_s,state\n8,wake\n4,nrem\n', 3, /time order/);
    rejects('start_s,state\n0,wake\n5,nrem\n', 3, /expected 4 s/, { epochS: 4 });
  });

  it('an empty file or an option out of range is a typed error', () => {
    assert.throws(() => parseHypnogramCsv('# nothing\n'), { code: 'E_HYPNOGRAM_FORMAT', message: /no epochs/ });
    assert.throws(() => parseHypnogramCsv('wake\n', { epochS: -1 }), { code: 'E_SLEEP_BAD_OPTION' });
    assert.throws(() => parseHypnogramCsv('wake\n', { epochS: 4, stateLabels: { x: 'drowsy' as SleepState } }), { code: 'E_SLEEP_BAD_OPTION' });
  });
});

describe('agreement measures', () => {
  it('Cohen\'s κ: 1 for identical, 0 for chance-level, and a hand-worked 2-state example (κ = 0.4)', () => {
    const a: SleepState[] = ['wake', 'nrem', 'rem', 'nrem'];
    assert.equal(cohenKappa(a, a), 1);
    // rows truth, columns scored: [[20, 5], [10, 15]] -> po = 0.7, pe = 0.5·0.6 + 0.5·0.4 = 0.5, κ = 0.4
    const t: SleepState[] = [];
    const s: SleepState[] = [];
    const add = (x: SleepState, y: SleepState, k: number): void => { for (let i = 0; i < k; i++) { t.push(x); s.push(y); } };
    add('wake', 'wake', 20); add('wake', 'nrem', 5); add('nrem', 'wake', 10); add('nrem', 'nrem', 15);
    assert.ok(Math.abs(cohenKappa(t, s) - 0.4) < 1e-12);
    // independent halves: κ = 0
    assert.ok(Math.abs(cohenKappa(['wake', 'wake', 'nrem', 'nrem'], ['wake', 'nrem', 'wake', 'nrem'])) < 1e-12);
    assert.throws(() => cohenKappa(a, a.slice(1)), { code: 'E_SLEEP_BAD_INPUT' });
  });

  it('matchEvents: one-to-one nearest matching within the tolerance', () => {
    const m = matchEvents([{ startS: 10 }, { startS: 50 }, { startS: 90 }], [{ startS: 10.4 }, { startS: 10.2 }, { startS: 53 }], 2);
    assert.equal(m.truePositives, 1);
    assert.deepEqual(m.onsetErrorsS.map((e) => +e.toFixed(6)), [0.2]);
    assert.ok(Math.abs(m.precision - 1 / 3) < 1e-12 && Math.abs(m.recall - 1 / 3) < 1e-12 && Math.abs(m.f1 - 1 / 3) < 1e-12);
  });
});
