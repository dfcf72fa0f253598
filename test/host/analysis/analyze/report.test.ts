// Issue 16, acceptance 4: report.html of `fiberrig analyze` rendered in Debian's Chromium
// (playwright-core, no browser download; as test/host/live/browser.test.ts): every plot present
// with drawn data, no console errors, no network request, and a screenshot in test-output/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { REPORT_PLOTS } from '../../../../host/analysis/analyze/index.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, needChromium } from '../../live/helpers.ts';
import { cli, noAuxRecording, scratch, SLEEP_SEED, sleepRecording } from './fixture.ts';

const outputDir = fileURLToPath(new URL('../../../../test-output/', import.meta.url));

/** Points in an SVG path's d attribute (one per M/L command). */
const points = (d: string | null): number => (d?.match(/[ML]/g) ?? []).length;

describe('fiberrig analyze: report.html in Chromium', function () {
  this.timeout(240_000);
  let browser: Browser | undefined;
  after(async () => { await browser?.close().catch(() => undefined); });

  const title = `sim://sleep seed ${SLEEP_SEED}: every plot (${REPORT_PLOTS.join(', ')}) drawn with data, the headline table filled, no console error or network request; screenshot in test-output/`;
  const titleNoAux = 'a recording without EEG/EMG or 560 nm: the page renders, the trace is drawn, the other plots and the table say why they are not available';
  async function open(reportPath: string, screenshot: string) {
    browser ??= await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
    await page.goto(pathToFileURL(reportPath).href);
    mkdirSync(outputDir, { recursive: true });
    await page.screenshot({ path: join(outputDir, screenshot), fullPage: true });
    return { page, errors, requests };
  }

  it(title, async function () {
    needChromium(this);
    const rec = await sleepRecording();
    const out = join(scratch(), 'report-sleep');
    const run = await cli(['analyze', rec, '--out', out, '--quiet', '--no-traces']);
    assert.equal(run.code, 0, run.stderr);
    const { page, errors, requests } = await open(join(out, 'report.html'), 'analyze-report.png');
    for (const name of REPORT_PLOTS) {
      const fig = page.locator(`figure[data-plot="${name}"]`);
      assert.equal(await fig.count(), 1, `one ${name} plot`);
      assert.equal(await fig.getAttribute('data-unavailable'), null, `${name} has data`);
      const box = await fig.locator('svg').first().boundingBox();
      assert.ok(box && box.width > 100 && box.height > 100, `${name} is drawn (${JSON.stringify(box)})`);
      const ds = await fig.locator('path.data').evaluateAll((ps) => ps.map((p) => p.getAttribute('d')));
      const circles = await fig.locator('circle.data').count();
      if (name === 'xcorr') assert.ok(circles >= 1, 'one dot per NREM bout');
      else assert.ok(ds.some((d) => points(d) >= 20), `${name}: a data path with ≥ 20 points (${ds.map(points).join(', ')})`);
    }
    // the hypnogram plot: the hypnogram, the NE trace and blood volume, and micro-arousal marks
    const hyp = page.locator('figure[data-plot="hypnogram"]');
    for (const trace of ['dff:470nm@det0', 'blood-volume']) assert.ok(points(await hyp.locator(`path[data-trace="${trace}"]`).getAttribute('d')) >= 500, `${trace} trace`);
    assert.ok(points(await hyp.locator('path.hyp').getAttribute('d')) >= 4, 'hypnogram steps');
    assert.ok(Number(await hyp.locator('path.ma').getAttribute('data-micro-arousals')) >= 1, 'micro-arousal marks');
    // MA-locked: NE with its SEM band
    const ne = page.locator('figure[data-plot="ma-locked"] svg[data-locked="NE"]');
    assert.ok(points(await ne.locator('path.mean').getAttribute('d')) >= 100);
    assert.ok(points(await ne.locator('path.band').getAttribute('d')) >= 100, 'SEM band');
    // headline numbers
    const headline = String(await page.locator('table[data-table="headline"]').textContent());
    for (const q of ['NE peak frequency', 'NE cycle amplitude', 'micro-arousals', 'time in NREM']) assert.match(headline, new RegExp(q));
    assert.ok(await page.locator('[data-table="unavailable"]').count() === 1);
    assert.deepEqual(errors, [], 'no console errors');
    assert.deepEqual(requests, [], 'self-contained: no request beyond the file');
  });

  it(titleNoAux, async function () {
    needChromium(this);
    const rec = await noAuxRecording();
    const out = join(scratch(), 'report-no-aux');
    const run = await cli(['analyze', rec, '--out', out, '--quiet']);
    assert.equal(run.code, 0, run.stderr);
    const { page, errors, requests } = await open(join(out, 'report.html'), 'analyze-report-no-aux.png');
    const hyp = page.locator('figure[data-plot="hypnogram"]');
    assert.equal(await hyp.getAttribute('data-unavailable'), null);
    assert.ok(points(await hyp.locator('path[data-trace="dff:470nm@det0"]').getAttribute('d')) >= 100);
    for (const name of REPORT_PLOTS.filter((p) => p !== 'hypnogram')) {
      const why = await page.locator(`figure[data-plot="${name}"]`).getAttribute('data-unavailable');
      assert.match(String(why), /EEG|hypnogram|blood-volume/, `${name}: ${why}`);
    }
    const table = String(await page.locator('table[data-table="unavailable"]').textContent());
    for (const code of ['E_NO_EEG_EMG', 'E_NO_BLOOD_VOLUME', 'E_NO_HYPNOGRAM']) assert.match(table, new RegExp(code));
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
  });
});
