// End to end: the analysis pages (run detail, compare, phases) on a small finished sweep, checked against
// what the lab stored, with chart exports read back from the browser's downloads.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import type { Run } from '../../shared/api';
import type { Lab } from '../../main/services/lab';
import { openLabPage, screenshotPath } from '../helpers/browser';
import { finishedRuns } from '../helpers/lab';
import { phaseText } from '../../shared/figures/data';
import type { WebHost } from '../../main/web/server';
import { tinySpec } from '../helpers/specs';

let host: WebHost;
let page: Page;
let lab: Lab;
let runs: Run[];
let stop: () => Promise<void>;
let pageErrors: string[];
/** Every frame the page sent over the LabApi socket. */
const sent: string[] = [];

/** Three pool sizes x two batch sizes: six runs of 60 steps, a few seconds on two cores. */
const sweepSpec = tinySpec({
  name: 'analysis sweep',
  sweep: {
    axes: [
      { path: 'task.numTasks', values: [1, 4, 'fresh'] },
      { path: 'training.batchSize', values: [8, 16] },
    ],
  },
});

beforeAll(async () => {
  ({ lab, host, page, pageErrors, stop } = await openLabPage('metalab-e2e-analysis-', 2));
  page.on('websocket', (ws) => ws.on('framesent', (frame) => void sent.push(String(frame.payload))));
  const { experimentId } = await lab.createExperiment(sweepSpec);
  runs = await finishedRuns(lab, experimentId, 40_000);
  await page.goto(host.url);
  await page.getByRole('link', { name: 'Runs' }).waitFor();
}, 60_000);
afterAll(() => stop());

async function go(hash: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
}

/** Screenshots of the page in the light theme, then the dark one, leaving it light. */
async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: screenshotPath('e2e', `${name}-light`), fullPage: true });
  await page.getByRole('button', { name: 'switch to dark theme' }).click();
  await page.screenshot({ path: screenshotPath('e2e', `${name}-dark`), fullPage: true });
  await page.getByRole('button', { name: 'switch to light theme' }).click();
}

/** Clicks a download button and returns the file's name and text. */
async function download(button: Locator): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), 'utf8') };
}

/** RFC 4180 CSV as the exports write it: fields with commas or quotes are quoted (a phase label has a comma). */
function parseCsv(text: string): string[][] {
  return text
    .trim()
    .split('\r\n')
    .map((line) =>
      [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) => m[1].replace(/^"|"$/g, '').replaceAll('""', '"')),
    );
}

const run = (point: Record<string, number | string>) =>
  runs.find((r) => Object.entries(point).every(([k, v]) => r.sweepPoint[k] === v))!;

describe('the analysis pages', () => {
  it('draws a run: curves, in-context curve with baselines, exported as the database holds it', async () => {
    const r = run({ 'task.numTasks': 4, 'training.batchSize': 16 });
    await go(`#/runs/${r.id}`);
    await expect.poll(() => page.locator('h1').textContent()).toContain(`r${r.id}`);
    await expect.poll(() => page.locator('canvas').count()).toBeGreaterThanOrEqual(7);
    const context = page.getByTestId('context-curve');
    expect(await context.locator('canvas').count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('context-step').textContent()).toBe('60 (latest)');
    // A finished run's page loads its curves and then stays quiet (it once refetched them in a loop).
    const before = sent.filter((f) => f.includes('getEvalCurves')).length;
    await page.waitForTimeout(1500);
    expect(sent.filter((f) => f.includes('getEvalCurves')).length - before).toBe(0);

    const { name, text } = await download(
      page.getByRole('button', { name: 'download In-context learning curve (MSE) data as CSV' }),
    );
    expect(name).toBe(`r${r.id}-in-context-60.csv`);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(['series', 'position', 'MSE']);
    const stored = await lab.getEvalCurves(r.id);
    const expected = stored
      .filter((c) => (c.step === 60 && c.metric === 'mse') || c.metric.endsWith('_mse'))
      .flatMap((c) => c.values.map((v, i) => [c.split, c.metric, i + 1, v] as const));
    expect(expected.length).toBeGreaterThan(0);
    for (const [split, metric, position, value] of expected) {
      const series = metric === 'mse' ? `${split} model` : `${split} ${metric === 'ridge_mse' ? 'ridge' : 'dMMSE'}`;
      const row = rows.find((x) => x[0] === series && Number(x[1]) === position);
      expect(row, `${series} at ${position}`).toBeDefined();
      expect(row![2] === '' ? null : Number(row![2])).toBe(value);
    }
    expect(rows.length).toBe(expected.length);
    await shoot('analysis-run-detail');
  });

  it('exports a chart as a figure: title, run, legend, axis names on white in the dark theme', async () => {
    const r = run({ 'task.numTasks': 4, 'training.batchSize': 16 });
    await go(`#/runs/${r.id}`);
    await expect.poll(() => page.locator('canvas').count()).toBeGreaterThanOrEqual(7);
    await page.getByRole('button', { name: 'switch to dark theme' }).click();
    try {
      const svg = await download(page.getByRole('button', { name: 'download Loss as SVG' }));
      expect(svg.name).toBe(`r${r.id}-loss.svg`);
      const texts = [...svg.text.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
      expect(texts).toEqual(expect.arrayContaining(['Loss', `r${r.id} · e${r.experimentId} analysis sweep`, 'step']));
      expect(texts).toEqual(expect.arrayContaining(['loss', 'loss (smoothed)']));
      expect(svg.text).toContain('fill="#ffffff"');

      const [file] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'download Loss as PNG' }).click(),
      ]);
      const png = fs.readFileSync(await file.path()).toString('base64');
      const chartWidth = await page.getByRole('img', { name: 'Loss' }).evaluate((el) => el.clientWidth);
      // Decoded by the browser: its size, its background, and dark text where the title is.
      const image = await page.evaluate(async (data) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(bitmap, 0, 0);
        const { data: px } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
        const at = (x: number, y: number) =>
          Array.from(px.slice(4 * (y * bitmap.width + x), 4 * (y * bitmap.width + x) + 3));
        let titleInk = 0;
        for (let y = 8; y < 56; y++) {
          for (let x = bitmap.width / 2 - 60; x < bitmap.width / 2 + 60; x++)
            if (Math.max(...at(x, y)) < 90) titleInk++;
        }
        return { width: bitmap.width, height: bitmap.height, corner: at(2, 2), titleInk };
      }, png);
      expect(image.width).toBe(2 * chartWidth);
      expect(image.corner).toEqual([255, 255, 255]);
      expect(image.titleInk).toBeGreaterThan(100);
    } finally {
      await page.getByRole('button', { name: 'switch to light theme' }).click();
    }
  });

  it('compares two runs: the spec diff names exactly the differing field', async () => {
    const a = run({ 'task.numTasks': 1, 'training.batchSize': 8 });
    const b = run({ 'task.numTasks': 'fresh', 'training.batchSize': 8 });
    await go(`#/compare?runs=${a.id},${b.id}`);
    const diff = page.getByTestId('spec-diff');
    await expect.poll(() => diff.locator('thead th').allTextContents()).toEqual(['run', 'task.numTasks']);
    expect(await diff.locator('tbody td').allTextContents()).toEqual(['1', 'fresh']);
    expect(await page.getByRole('checkbox', { name: `r${a.id}`, exact: true }).isChecked()).toBe(true);
    await expect.poll(() => page.locator('canvas').count()).toBeGreaterThanOrEqual(4);
    await shoot('analysis-compare');
  });

  it('fills the phase heatmaps with the runs stored figures and phases', async () => {
    await go('#/phases');
    await expect
      .poll(() => page.getByRole('combobox', { name: 'experiment' }).textContent())
      .toContain('analysis sweep');
    await expect.poll(() => page.getByTestId('heatmap-0').locator('canvas').count()).toBeGreaterThan(0);
    await shoot('analysis-phases');

    await page.getByRole('button', { name: 'show seen/last_mse as a table' }).click();
    const table = page.getByRole('table', { name: 'seen/last_mse data' });
    expect(await table.locator('thead th').allTextContents()).toEqual([
      'task.numTasks',
      'training.batchSize',
      'eval/seen/last_mse',
      'phase',
      'run',
      'status',
    ]);
    const cells = await table
      .locator('tbody tr')
      .evaluateAll((rows) => rows.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.dataset.value ?? '')));
    expect(cells).toHaveLength(runs.length);
    for (const [numTasks, , value, phase, id] of cells) {
      const r = runs.find((x) => `r${x.id}` === id)!;
      // Fresh tasks have no seen split: an empty cell.
      if (numTasks === 'fresh') expect(value).toBe('');
      else expect(Number(value)).toBe(r.summary!.figures['eval/seen/last_mse']);
      expect(phase).toBe(phaseText(r.summary!.phase!, r.summary!.phaseConfidence));
    }

    const { name, text } = await download(page.getByRole('button', { name: 'download unseen/last_mse data as CSV' }));
    expect(name).toMatch(/^e\d+-heatmap-eval-unseen-last_mse\.csv$/);
    const [, ...rows] = parseCsv(text);
    expect(rows).toHaveLength(runs.length);
    for (const row of rows) {
      const r = runs.find((x) => `r${x.id}` === row[4])!;
      expect(String(r.sweepPoint['task.numTasks'])).toBe(row[0]);
      expect(Number(row[2])).toBe(r.summary!.figures['eval/unseen/last_mse']);
    }
    expect(pageErrors).toEqual([]);
  });
});
