// End to end: Debian's Chromium (playwright-core, no browser download) against
// the live view serving a simulated sleep rig. The page loads, traces
// advance, an LED slider changes the current the device reports in Status,
// stop/start works, and a screenshot lands in test-output/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startLiveServer, type LiveServer } from '../../../host/live/server.ts';
import type { Rig } from '../../../host/rig/rig.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, needChromium, firstMatch, LIVE_TEST_CONFIG, simRig, until } from './helpers.ts';

const outputDir = fileURLToPath(new URL('../../../test-output/', import.meta.url));

interface PageCounters {
  frames: number;
  signalPoints: number;
  dffPoints: number;
  sleepEpochs: number;
  sleepScored: number;
  auxPoints: number;
  rawFrames: number;
  digitalEvents: number;
  connected: boolean;
  lastStatus: { acquiring: boolean; running: boolean; sessionS: number } | null;
}

/** The canvas API the test reads (the test compiles without the DOM library). */
interface CanvasLike {
  width: number;
  height: number;
  dataset: Record<string, string | undefined>;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

const counters = (page: Page): Promise<PageCounters> => page.evaluate(() => (globalThis as unknown as { fiberrigLive: PageCounters }).fiberrigLive);

describe('live view in Chromium', function () {
  this.timeout(120_000);
  let rig: Rig | undefined;
  let server: LiveServer | undefined;
  let browser: Browser | undefined;

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
    await rig?.close().catch(() => undefined);
  });

  const title = 'shows advancing traces, drives an LED, stops and starts, and writes a screenshot';
  it(title, async function () {
    needChromium(this);
    const sim = await simRig('sim://sleep?seed=3&speed=4&loopback=1', LIVE_TEST_CONFIG);
    rig = sim.rig;
    server = await startLiveServer({ rig, config: LIVE_TEST_CONFIG, wire: sim.wire, port: 0 });
    await rig.start();

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    await page.goto(server.url);

    // the page builds one trace per wavelength and detector, plus aux and raw
    await page.locator('#signals .uplot').nth(5).waitFor();
    assert.equal(await page.locator('#signals .uplot').count(), 6);
    assert.equal(await page.locator('#aux .uplot').count(), 2);
    assert.equal(await page.locator('#raw .uplot').count(), 1);
    assert.match(String(await page.locator('#rec').textContent()), /NOT RECORDING/);
    assert.equal(await page.locator('#record').isDisabled(), true, 'view has no recorder: record is disabled');

    // traces advance
    const first = await until('signal points on the page', async () => { const c = await counters(page); return c.signalPoints > 0 && c; });
    const later = await until('more signal points', async () => { const c = await counters(page); return c.signalPoints > first.signalPoints + 200 && c; });
    assert.ok(later.auxPoints > 0, 'aux points arrive');
    assert.ok(later.rawFrames > 0, 'raw view updates');

    // the LED slider changes the current the device reports in Status
    const slider = page.locator('input[data-led="1"]');
    assert.equal(String(await slider.getAttribute('max')), String(rig.info.leds.find((l) => l.id === 1)!.maxCurrentContinuousMa));
    const reported = firstMatch(rig.status$, (s) => s.leds.some((l) => l.channel === 1 && Math.abs(l.currentMa - 35) < 0.05));
    await slider.fill('35');
    const status = await reported;
    assert.ok(status.running);
    await until('the page shows the applied current', async () => (await page.locator('.led .applied').nth(1).getAttribute('data-current-ma')) === '35');

    // and switching it off darkens it
    const off = firstMatch(rig.status$, (s) => s.leds.some((l) => l.channel === 1 && l.currentMa === 0));
    await page.locator('input[data-led-on="1"]').uncheck();
    await off;
    await page.locator('input[data-led-on="1"]').check();
    await firstMatch(rig.status$, (s) => s.leds.some((l) => l.channel === 1 && Math.abs(l.currentMa - 35) < 0.05));

    // digital markers (the looped-back sync output, every 5 s of device time) reach the page
    await until('digital events on the page', async () => (await counters(page)).digitalEvents >= 2);
    await until('12 s of session time', async () => ((await counters(page)).lastStatus?.sessionS ?? 0) > 12);

    mkdirSync(outputDir, { recursive: true });
    const shot = join(outputDir, 'live-view.png');
    await page.screenshot({ path: shot, fullPage: true });

    // stop
    await page.locator('#stop').click();
    await until('the rig stops', () => !rig!.running);
    await until('the page shows stopped', async () => (await page.locator('#acq-state').textContent()) === 'stopped');
    // start again: a new acquisition, and the traces advance again
    const before = await counters(page);
    await page.locator('#start').click();
    await until('the rig runs', () => rig!.running);
    await until('signal points after restart', async () => (await counters(page)).signalPoints > before.signalPoints + 200);
    await until('the page shows running', async () => (await page.locator('#acq-state').textContent()) === 'running');

    assert.deepEqual(pageErrors, []);
    assert.equal(rig.linkHealth().hostDetectedMissingSamples, 0);
  });

  it('shows the corrected ΔF/F trace and the running sleep-state strip with data on a sim://sleep run (short warm-ups: ΔF/F after 20 s, sleep scored from 30 epochs), and writes a screenshot', async function () {
    this.timeout(240_000);
    needChromium(this);
    const sim = await simRig('sim://sleep?seed=7&speed=4', LIVE_TEST_CONFIG);
    const ownRig = sim.rig;
    const ownServer = await startLiveServer({
      rig: ownRig, config: LIVE_TEST_CONFIG, wire: sim.wire, port: 0,
      feed: { analysis: { correctionWarmupS: 20, correctionEveryS: 5, sleepMinEpochs: 30, sleepEveryEpochs: 5 } },
    });
    const ownBrowser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      await ownRig.start();
      const page = await ownBrowser.newPage({ viewport: { width: 1440, height: 1100 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
      await page.goto(ownServer.url);
      await page.locator('#dff .uplot').waitFor();
      assert.equal(await page.locator('#sleep-box').isHidden(), false, 'EEG and EMG present: the strip is shown');
      await page.locator('#window').selectOption('300');
      await until('ΔF/F points on the page', async () => (await counters(page)).dffPoints > 50, 60_000);
      // the channels chosen from the data, as the offline correction does: the red detector's 560 nm is the brightest, so the sensor is the green detector's 470 nm
      assert.match(String(await page.locator('#dff .u-title').textContent()), /corrected ΔF\/F · 470nm@det0 · haemodynamic/);
      await until('scored sleep epochs on the page', async () => (await counters(page)).sleepScored > 0, 150_000)
        .catch(async (e: Error) => { throw new Error(`${e.message}: page counters ${JSON.stringify(await counters(page))}; server warnings: ${JSON.stringify(await page.locator('#warnings').textContent())}`); });
      // what the page drew: epochs on the strip, some of them scored, and a ΔF/F line in the plot
      const strip = await until('epochs drawn on the strip', async () => {
        const d = await page.locator('#sleep-strip').evaluate((c) => ({ epochs: Number((c as unknown as CanvasLike).dataset['epochs']), scored: Number((c as unknown as CanvasLike).dataset['scored']) }));
        return d.scored > 0 && d;
      });
      assert.ok(strip.epochs >= strip.scored && strip.epochs > 0, JSON.stringify(strip));
      const painted = await page.locator('#sleep-strip').evaluate((c) => {
        const canvas = c as unknown as CanvasLike;
        const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) n++;
        return n / (canvas.width * canvas.height);
      });
      assert.ok(painted > 0.05, `strip painted over ${(painted * 100).toFixed(1)} % of its area`);
      mkdirSync(outputDir, { recursive: true });
      await page.screenshot({ path: join(outputDir, 'live-view-analysis.png'), fullPage: true });
      assert.deepEqual(pageErrors, []);
    } finally {
      await ownBrowser.close().catch(() => undefined);
      await ownServer.close().catch(() => undefined);
      await ownRig.close().catch(() => undefined);
    }
  });
});
