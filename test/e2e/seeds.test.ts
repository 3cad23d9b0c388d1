// End to end: a real sweep over three seeds, aggregated in the Compare and Phases views. The band of the overlaid
// loss is checked against the series the lab stored (mean and standard error worked out here), the switch shows the
// single runs, and the heatmap's cells, as exported, read mean ± s.e. of the runs' stored figures; `metalab figure`
// and `metalab show` aggregate the same.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import type { Run } from '../../shared/api';
import { formatNumber, formatPoint } from '../../shared/figures/format';
import type { Lab } from '../../main/services/lab';
import type { WebHost } from '../../main/web/server';
import { openLabPage, screenshotPath } from '../helpers/browser';
import { metalab } from '../helpers/cli';
import { tinySpec } from '../helpers/specs';

let host: WebHost;
let page: Page;
let lab: Lab;
let runs: Run[];
let stop: () => Promise<void>;
let pageErrors: string[];

/** Two pool sizes x three seeds: six runs of 40 steps. */
const spec = tinySpec({
  name: 'seeds sweep',
  training: { steps: 40, batchSize: 16, learningRate: 0.01, checkpointEvery: 20 },
  evaluation: { every: 20, sequences: 32 },
  sweep: {
    axes: [
      { path: 'task.numTasks', values: [1, 4] },
      { path: 'seed', values: [0, 1, 2] },
    ],
  },
});

beforeAll(async () => {
  ({ lab, host, page, pageErrors, stop } = await openLabPage('metalab-e2e-seeds-', 2));
  const { experimentId } = await lab.createExperiment(spec);
  await lab.idle();
  runs = (await lab.listRuns({ experimentId })).reverse();
  expect(runs.map((r) => r.status)).toEqual(Array(6).fill('finished'));
  await page.goto(host.url);
  await page.getByRole('link', { name: 'Runs' }).waitFor();
}, 60_000);
afterAll(() => stop());

const seedsOf = (numTasks: number) => runs.filter((r) => r.sweepPoint['task.numTasks'] === numTasks);

/** Mean and standard error (sample sd / √n), written out here rather than taken from the code under test. */
function meanSe(xs: number[]): [number, number] {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
  return [mean, Math.sqrt(variance / xs.length)];
}

/** A chart's data table, shown with its Table button: the header and each row's raw values. */
async function chartTable(title: string): Promise<{ columns: string[]; rows: string[][] }> {
  await page.getByRole('button', { name: `show ${title} as a table` }).click();
  const table = page.getByRole('table', { name: `${title} data` });
  await table.waitFor();
  const columns = await table.locator('thead th').allTextContents();
  const rows = await table
    .locator('tbody tr')
    .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.dataset.value ?? '')));
  await page.getByRole('button', { name: `show ${title} as a table` }).click();
  return { columns, rows };
}

async function download(button: Locator): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return fs.readFileSync(await file.path(), 'utf8');
}

describe('a sweep over seeds', () => {
  it('overlays each point’s mean with an s.e. band matching the stored series; the switch shows runs', async () => {
    await page.evaluate((ids) => (location.hash = `#/compare?runs=${ids}`), runs.map((r) => r.id).join(','));
    const aggregated = page.getByRole('radio', { name: 'aggregated' });
    await aggregated.waitFor();
    expect(await aggregated.isChecked()).toBe(true);
    await expect.poll(() => page.locator('canvas').count()).toBeGreaterThanOrEqual(3);

    const stored = await lab.getSeries(
      runs.map((r) => r.id),
      ['loss'],
      { maxPoints: 800 },
    );
    const overlaid = await chartTable('Overlaid: loss');
    expect(overlaid.columns).toEqual(['series', 'step', 'loss', 's.e.']);
    for (const numTasks of [1, 4]) {
      const name = `e${runs[0].experimentId} numTasks=${numTasks} · mean ± s.e. of 3 seeds`;
      const rows = overlaid.rows.filter((r) => r[0] === name);
      const series = seedsOf(numTasks).map((r) => stored.find((s) => s.runId === r.id)!);
      // Every seed logged every step, so the common steps are all of them.
      expect(rows.map((r) => Number(r[1]))).toEqual(series[0].steps);
      for (const [, step, mean, se] of rows) {
        const values = series.map((s) => s.last[s.steps.indexOf(Number(step))]!);
        const [m, e] = meanSe(values);
        expect(Number(mean), `${name} mean at ${step}`).toBeCloseTo(m, 10);
        expect(Number(se), `${name} s.e. at ${step}`).toBeCloseTo(e, 10);
        expect(e, 'seeds differ').toBeGreaterThan(0);
      }
    }
    expect(overlaid.rows).toHaveLength(2 * stored[0].steps.length);
    // The figures table: a column per point, each figure as mean ± s.e. (n).
    const [m, e] = meanSe(seedsOf(1).map((r) => r.summary!.figures['eval/unseen/last_mse']!));
    await expect
      .poll(() => page.getByTestId('figures').textContent())
      .toContain(`${formatNumber(m)} ± ${formatNumber(e, 2)} (n=3)`);
    await page.screenshot({ path: screenshotPath('e2e', 'seeds-compare'), fullPage: true });

    await page.getByRole('radio', { name: 'single runs' }).check();
    const single = await chartTable('Overlaid: loss');
    expect(single.columns).toEqual(['series', 'step', 'loss']);
    expect([...new Set(single.rows.map((r) => r[0]))]).toEqual(runs.map((r) => `r${r.id}`));
    for (const s of stored) {
      const rows = single.rows.filter((r) => r[0] === `r${s.runId}`);
      expect(rows.map((r) => Number(r[2]))).toEqual(s.last);
    }
    // The switch is in the address with the runs: a reload (or the link) shows single runs again.
    await expect.poll(() => new URL(page.url()).hash).toMatch(/^#\/compare\?runs=[\d%C,]+&seeds=runs$/);
    await page.reload();
    await expect.poll(() => page.getByRole('radio', { name: 'single runs' }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: 'aggregated' }).isChecked()).toBe(false);
    await page.getByRole('radio', { name: 'aggregated' }).check();
    await expect.poll(() => new URL(page.url()).hash).not.toContain('seeds=');
  });

  it('fills the phase heatmap with each point’s mean ± s.e. over its seeds and their majority phase', async () => {
    await page.evaluate(() => (location.hash = '#/phases'));
    await expect.poll(() => page.getByRole('combobox', { name: 'experiment' }).textContent()).toContain('seeds sweep');
    // The experiment shown is in the address.
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/phases?experiment=${runs[0].experimentId}`);
    const heatmap = page.getByTestId('heatmap-1');
    await expect.poll(() => heatmap.locator('canvas').count()).toBeGreaterThan(0);
    // The seed axis is not an axis of the map, nor held at a value.
    expect(await page.getByRole('combobox', { name: 'hold seed at' }).count()).toBe(0);

    const figure = 'eval/unseen/last_mse';
    const { columns, rows } = await chartTable('unseen/last_mse');
    expect(columns).toEqual(['', 'task.numTasks', figure, 's.e.', 'n', 'phase', 'run', 'status']);
    const svg = await download(page.getByRole('button', { name: 'download unseen/last_mse as SVG' }));
    for (const [i, numTasks] of [1, 4].entries()) {
      const seeds = seedsOf(numTasks);
      const [m, e] = meanSe(seeds.map((r) => r.summary!.figures[figure]!));
      const [, x, mean, se, n, , ids] = rows[i];
      expect(x).toBe(String(numTasks));
      expect(Number(mean)).toBeCloseTo(m, 10);
      expect(Number(se)).toBeCloseTo(e, 10);
      expect(n).toBe('3');
      expect(ids).toBe(seeds.map((r) => `r${r.id}`).join(' '));
      // The cell as drawn: mean ± s.e., then the phase most seeds end in with how many agree.
      expect(svg).toContain(`${formatNumber(m, 3)} ± ${formatNumber(e, 2)}`);
      expect(svg).toMatch(/(none|memorize|task ID|learn) [123]\/3/);
    }
    await page.screenshot({ path: screenshotPath('e2e', 'seeds-phases'), fullPage: true });
    // The state-size scatter: a point per sweep point, coloured by its seeds' mean.
    const scatter = await chartTable('State size vs parameters');
    expect(scatter.columns).toEqual(['sweep point', 'parameters', 'state size', figure]);
    expect(scatter.rows).toHaveLength(2);
    for (const numTasks of [1, 4]) {
      const row = scatter.rows.find((r) => r[0] === `numTasks=${numTasks} · mean ± s.e. of 3 seeds`);
      const [m] = meanSe(seedsOf(numTasks).map((r) => r.summary!.figures[figure]!));
      expect(Number(row?.[3])).toBeCloseTo(m, 10);
    }

    // Single runs: the seed becomes an axis of the map, one cell per run; the scatter a point per run, at one
    // number of tasks (the map's other axis) at a time.
    await page.getByRole('radio', { name: 'single runs' }).check();
    const single = await chartTable('unseen/last_mse');
    expect(single.columns).toEqual(['task.numTasks', 'seed', figure, 'phase', 'run', 'status']);
    expect(single.rows.map((r) => r[4]).sort()).toEqual(runs.map((r) => `r${r.id}`).sort());
    const points = (await chartTable('State size vs parameters')).rows.map((r) => r[0]).sort();
    expect(points).toEqual(
      seedsOf(4)
        .map((r) => `r${r.id} ${formatPoint(r.sweepPoint)}`)
        .sort(),
    );
    await page.getByRole('radio', { name: 'aggregated' }).check();
    expect(pageErrors).toEqual([]);
  });

  it('aggregates the same in metalab figure (unless --single-runs) and at the end of metalab show', async () => {
    const figure = 'eval/unseen/last_mse';
    const e = `e${runs[0].experimentId}`;
    const { home } = await lab.getInfo();
    const svgOf = (...args: string[]) => {
      const out = path.join(home, `${args.join('-').replaceAll('/', '_')}.svg`);
      const r = metalab(home, 'figure', ...args, '--out', out);
      expect(r.code, r.stderr).toBe(0);
      return fs.readFileSync(out, 'utf8');
    };
    const heat = svgOf('heatmap', e, '--figure', figure);
    const show = metalab(home, 'show', e);
    expect(show.code, show.stderr).toBe(0);
    const table = show.stdout.slice(show.stdout.indexOf('mean ± s.e. over seeds:'));
    for (const numTasks of [1, 4]) {
      const [m, se] = meanSe(seedsOf(numTasks).map((r) => r.summary!.figures[figure]!));
      expect(heat).toContain(`${formatNumber(m, 3)} ± ${formatNumber(se, 2)}`);
      const row = table.split('\n').find((line) => line.startsWith(`task.numTasks=${numTasks} `));
      expect(row, show.stdout).toContain(`${formatNumber(m)} ± ${formatNumber(se, 2)} (n=3)`);
    }
    expect(heat).toContain('mean ± s.e. of 3 seeds');
    const lines = svgOf('lines', e, '--metric', 'loss');
    expect(lines).toContain('numTasks=1 · mean ± s.e. of 3 seeds');
    // One run per cell, the seed an axis of the map.
    const single = svgOf('heatmap', e, '--figure', figure, '--single-runs');
    expect(single).not.toContain(' ± ');
    expect(single).toMatch(/>seed</);
  });
});
