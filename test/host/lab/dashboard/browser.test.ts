// End to end: Debian's Chromium (playwright-core) against the lab dashboard on 4 in-memory rigs
// whose live values advance: every rig's trace advances, a group start sends a start to each
// selected rig (a refusal is shown on its card), a stop follows; a screenshot lands in test-output/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { MemoryFleetSource, rigState } from '../../../../host/lab/dashboard/memory-source.ts';
import { type LabServer, startLabServer } from '../../../../host/lab/dashboard/server.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, needChromium, until } from '../../live/helpers.ts';
import { advanceLive } from './helpers.ts';

const outputDir = fileURLToPath(new URL('../../../../test-output/', import.meta.url));

interface LabCounters {
  frames: number;
  connected: boolean;
  points: Record<string, number>;
  rigs: { rig: string; online: boolean; recording: boolean; session: string | null; alarms: string[] }[];
}

const labCounters = (page: Page): Promise<LabCounters> => page.evaluate(() => (globalThis as unknown as { fiberrigLab: LabCounters }).fiberrigLab);

const RIGS = ['rig-1', 'rig-2', 'rig-3', 'rig-4'];

describe('lab dashboard in Chromium', function () {
  this.timeout(120_000);
  let server: LabServer | undefined;
  let browser: Browser | undefined;
  let stopLive: (() => void) | undefined;

  after(async () => {
    stopLive?.();
    await browser?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
  });

  it('4 rigs: every trace advances, a group start starts the selected rigs (a refusal shown), a stop stops one; screenshot', async function () {
    needChromium(this);
    const source = new MemoryFleetSource();
    for (const r of RIGS) source.setRig(rigState(r, { mirror: { session: 'S-NOW', ackedBytes: 3 << 20, fileBytes: 4 << 20, failures: 0 } }));
    // rig-1's sessions in the archive: one complete and verified, the mirrored one half archived
    const at = { updatedIso: new Date().toISOString(), sha256Ok: false, demod: 'pending' as const };
    source.setSessionProgress({ rig: 'rig-1', session: 'S-EARLIER', records: 90, bytes: 5 << 20, complete: true, ...at, sha256Ok: true, demod: 'done' });
    source.setSessionProgress({ rig: 'rig-1', session: 'S-NOW', records: 40, bytes: 2 << 20, complete: false, ...at });
    source.pushArchive({ consumer: true, pendingMessages: 12, ackPendingMessages: 3, ackFloorSeq: 4000, streamLastSeq: 4015 });
    stopLive = advanceLive(source, RIGS, 100);
    server = await startLabServer({ source, port: 0 });

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    await page.goto(server.url);

    // one card and one plot per rig
    await page.locator('section.rig .uplot').nth(3).waitFor();
    assert.equal(await page.locator('section.rig').count(), 4);
    assert.match(String(await page.locator('#archive').textContent()), /4000 of 4015 records · 15 behind/);
    // per session on the card, newest first: archived bytes of the raw log's, then complete · verified · demod
    assert.deepEqual(await page.locator('[data-archive="rig-1"] .archive-session').allTextContents(), [
      'archive S-NOW: 2.0 MB of 4.0 MB (50 %) · 40 records · archiving',
      'archive S-EARLIER: 5.0 MB · 90 records · complete · verified · demod done',
    ]);
    assert.equal(await page.locator('[data-archive="rig-2"] .archive-session').count(), 0);

    // every trace advances
    const first = await until('points on every plot', async () => { const c = await labCounters(page); return RIGS.every((r) => (c.points[r] ?? 0) > 0) && c; });
    await until('every plot advances', async () => {
      const c = await labCounters(page);
      return RIGS.every((r) => c.points[r]! >= first.points[r]! + 20);
    });
    // the plots drew their lines (uPlot's data length follows)
    const drawn = await page.locator('section.rig .plot').evaluateAll((boxes) => boxes.map((b) => (b as unknown as { querySelector(s: string): unknown }).querySelector('canvas') !== null));
    assert.deepEqual(drawn, [true, true, true, true]);

    // rig-3 is already recording: its start will be refused
    source.patchRig('rig-3', { recording: true, status: 'recording', session: 'EARLIER', subject: 'm0' });
    await until('rig-3 shown recording', async () => (await page.locator('[data-status="rig-3"]').textContent()) === 'RECORDING');

    // select rigs 1–3, give subjects, start the group
    for (const [i, rig] of ['rig-1', 'rig-2', 'rig-3'].entries()) {
      await page.locator(`[data-select="${rig}"]`).check();
      await page.locator(`[data-subject="${rig}"]`).fill(`mouse-${i + 1}`);
    }
    await page.locator('#duration-min').fill('30');
    await page.locator('#group-start').click();
    await until('the start reply on the page', async () => (await page.locator('[data-result="rig-3"]').textContent())?.includes('refused'));
    assert.deepEqual(source.sent.map((s) => [s.rig, s.command]), [
      ['rig-1', { cmd: 'start', subject: 'mouse-1', durationS: 1800 }],
      ['rig-2', { cmd: 'start', subject: 'mouse-2', durationS: 1800 }],
      ['rig-3', { cmd: 'start', subject: 'mouse-3', durationS: 1800 }],
    ], 'one start to each selected rig, none to rig-4');
    assert.match(String(await page.locator('[data-result="rig-3"]').textContent()), /recording session EARLIER/);
    assert.match(String(await page.locator('#toast').textContent()), /start refused on 1 of 3 rigs/);
    await until('rig-1 and rig-2 shown recording', async () => (await page.locator('[data-status="rig-1"]').textContent()) === 'RECORDING'
      && (await page.locator('[data-status="rig-2"]').textContent()) === 'RECORDING');
    assert.equal(await page.locator('[data-status="rig-4"]').textContent(), 'IDLE');
    assert.match(String(await page.locator('[data-result="rig-1"]').textContent()), /start: ok \(session S\d+\)/);

    // a rig's agent dies: offline alarm; the fleet alarms list names it
    source.removeRig('rig-4', 'expired');
    await until('rig-4 offline', async () => (await page.locator('[data-status="rig-4"]').textContent()) === 'OFFLINE');
    assert.match(String(await page.locator('#alarms').textContent()), /rig-4: offline: its fleet entry expired/);

    // the traces still advance after the starts (new sessions restart the plots)
    const later = await labCounters(page);
    await until('traces advance after the start', async () => {
      const c = await labCounters(page);
      return ['rig-1', 'rig-2', 'rig-3'].every((r) => c.points[r]! >= later.points[r]! + 20);
    });

    mkdirSync(outputDir, { recursive: true });
    await page.screenshot({ path: join(outputDir, 'lab-dashboard.png'), fullPage: true });

    // stop one rig by its own button
    await page.locator('[data-stop="rig-1"]').click();
    await until('rig-1 idle', async () => (await page.locator('[data-status="rig-1"]').textContent()) === 'IDLE');
    assert.deepEqual(source.sent.at(-1)!.command, { cmd: 'stop' });
    assert.deepEqual(pageErrors, []);
  });
});
