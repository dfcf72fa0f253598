// Acceptance 7 (issue 14): a 24-hour recording at max speed with faults (bit flips all day, two
// cable pulls, a device reset, a ring-buffer overrun) completes through `fiberrig acquire`; its gaps
// equal the simulator's ground truth; RSS growth over the day is reported; every export format
// succeeds on the full day. A light configuration (1 kS/s time division, one detector) keeps it to
// about a minute; `npm run soak -- --config default` runs the shipped lock-in config the same way.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useSimPorts } from '../support/sim-ports.ts';
import { DAY_FAULTS, type DayReport, runDay } from './day.ts';

describe('soak: 24 h at max speed with faults (corrupt, 2 disconnects, reset, overrun), light TDM config', function () {
  this.timeout(600_000);
  let work: string;
  let report: DayReport;
  const ports = useSimPorts('suite');

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'fiberrig-day-'));
    report = await runDay({
      configFile: fileURLToPath(new URL('./light-day.json', import.meta.url)), hours: 24, faults: DAY_FAULTS(24), seed: 3,
      scenario: 'sleep', outDir: join(work, 'rec'), exports: ['guppy', 'pmat', 'nwb', 'csv'], ports,
    });
    const r = report;
    console.log(`      24 h in ${r.wallS.toFixed(1)} s (${((24 * 3600) / r.wallS).toFixed(0)}x real time); runs ${r.runs}; gaps host ${r.hostGaps.length} / truth ${r.truthGaps.length}; largest gap-edge error ${r.maxEdgeErrorSamples} samples`);
    console.log(`      RSS over the day: ${r.rss.warmMb.toFixed(1)} MB after warm-up -> ${r.rss.endMb.toFixed(1)} MB at the end (growth ${r.rss.growthMb.toFixed(1)} MB, goal <= 20 MB; max ${r.rss.maxMb.toFixed(1)} MB)`);
    for (const e of r.exports) console.log(`      export ${e.format}: exit ${e.exitCode}, ${e.wallS.toFixed(1)} s, peak RSS ${e.maxRssMb.toFixed(0)} MB`);
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the day completes: exit 0, stopped by the duration, 24 h of device time recorded', () => {
    assert.equal(report.exitCode, 0);
    assert.equal(report.summary.stoppedBy, 'duration');
    assert.equal(report.summary.durationS, 24 * 3600);
  });

  it('the faults happened: frames rejected, the device ran in several runs (reconnects and a reset)', () => {
    const rejected = Object.values(report.summary.framesRejected as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.ok(rejected > 0, 'bit flips on the wire were caught');
    assert.ok(report.runs >= 4, `runs: ${report.runs} (2 reconnects and a reset restart the device's run)`);
    assert.ok(Number(report.summary.reconnects) >= 2);
  });

  it('gaps equal ground truth: every missing range matches, exactly or within the uncertainty the host states', () => {
    assert.ok(report.truthGaps.length >= 4);
    assert.deepEqual(report.unmatched, { host: [], truth: [] }, JSON.stringify(report.unmatched));
  });

  it('signals keep their wavelengths in every run (time division: LED minus dark > 0 for 405 and 470 nm all day)', () => {
    const channels = report.summary.channels as Array<{ name: string; min: number }>;
    assert.equal(channels.length, 2);
    for (const c of channels) assert.ok(c.min > 0, `${c.name}: min ${c.min}`);
  });

  it('every export of the full day succeeds (guppy, pmat, nwb, csv)', async () => {
    for (const e of report.exports) assert.equal(e.exitCode, 0, `${e.format}: ${e.stderrTail}`);
    const session = JSON.parse(await readFile(join(work, 'rec', 'session.json'), 'utf8')) as { end: { stoppedBy: string } };
    assert.equal(session.end.stoppedBy, 'duration');
  });
});
