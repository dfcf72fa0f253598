// A watchdog trip reaches the page: while every LED is dark a loud warning says so (with the
// session time), the traces break (nulls, never the dark readings), and once heartbeats are
// answered again the host relights the LEDs and the page says what was flagged.
import assert from 'node:assert/strict';
import { type LiveSession, liveSession, until } from './helpers.ts';

describe('live view: LEDs dark (watchdog)', function () {
  this.timeout(60_000);
  let session: LiveSession | undefined;

  after(async () => {
    await session?.close();
  });

  it('warns while dark (error, with the time), breaks the traces over the span, and reports the flagged span after the restore', async () => {
    session = await liveSession('sim://steps?seed=3&speed=4', 60);
    const { rig, frames } = session;
    await rig.start();
    await until('2 s of signals', () => frames.find((f) => (f.signals?.x.at(-1) ?? 0) > 2));
    rig.pauseHeartbeats();
    const dark = await until('a dark warning', () => frames.flatMap((f) => f.warnings).find((w) => w.text.startsWith('LEDs dark from')));
    assert.equal(dark.level, 'error');
    const darkFromS = Number(/from (\d+\.\d+) s/.exec(dark.text)![1]);
    assert.ok(darkFromS > 2, `dark from ${darkFromS} s`);
    await new Promise((r) => setTimeout(r, 600)); // ~2.4 s of device time dark at speed 4
    rig.resumeHeartbeats();
    const flagged = await until('the flagged span', () => frames.flatMap((f) => f.warnings).find((w) => w.text.startsWith('LEDs dark: watchdog from')));
    assert.equal(flagged.level, 'warn');
    const [, fromS, toS] = /from (\d+\.\d+) s to (\d+\.\d+) s/.exec(flagged.text)!.map(Number) as [number, number, number];
    assert.equal(fromS, darkFromS);
    await until('1 s of signals after the restore', () => frames.find((f) => (f.signals?.x.at(-1) ?? 0) > toS + 1));

    const x: number[] = [];
    const y: (number | null)[] = [];
    for (const f of frames) {
      if (!f.signals) continue;
      x.push(...f.signals.x);
      y.push(...f.signals.y[0]!);
    }
    const inSpan = x.flatMap((t, i) => (t >= fromS + 0.1 && t < toS - 0.1 ? [y[i]] : []));
    assert.ok(inSpan.length > 10 && inSpan.every((v) => v === null), `null over the dark span ${fromS}..${toS}: ${x.flatMap((t, i) => (t >= fromS + 0.1 && t < toS - 0.1 && y[i] !== null ? [t] : [])).slice(0, 10).join(' ')}`);
    const lit = x.flatMap((t, i) => ((t > 1 && t < fromS - 0.1) || t > toS + 0.5 ? [y[i]] : []));
    assert.ok(lit.length > 10 && lit.every((v) => v !== null), 'values outside it');
  });
});
