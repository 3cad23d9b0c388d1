// End to end: a phase label within noise is shown as uncertain (issue 16). A sweep evaluated on a deliberately small
// evaluation (4 sequences per split): the runs table, the run's page and the Phases view mark exactly the labels
// whose stored confidence is below PHASE_CONFIDENT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Run } from '../../shared/api';
import { phaseText } from '../../shared/figures/data';
import { phaseUncertain } from '../../shared/results';
import type { Lab } from '../../main/services/lab';
import type { WebHost } from '../../main/web/server';
import { openLabPage, screenshotPath } from '../helpers/browser';
import { finishedRuns } from '../helpers/lab';
import { tinySpec } from '../helpers/specs';

let host: WebHost;
let page: Page;
let lab: Lab;
let runs: Run[];
let stop: () => Promise<void>;
let pageErrors: string[];

const spec = tinySpec({
  name: 'small evaluation',
  seed: 2,
  evaluation: { every: 30, sequences: 4 },
  sweep: { axes: [{ path: 'task.numTasks', values: [1, 4, 'fresh'] }] },
});

beforeAll(async () => {
  ({ lab, host, page, pageErrors, stop } = await openLabPage('metalab-e2e-phase-', 2));
  const { experimentId } = await lab.createExperiment(spec);
  runs = await finishedRuns(lab, experimentId);
  await page.goto(host.url);
  await page.getByRole('link', { name: 'Runs' }).waitFor();
}, 60_000);
afterAll(() => stop());

const labelOf = (r: Run) => phaseText(r.summary!.phase!, r.summary!.phaseConfidence);

describe('uncertain phase labels', () => {
  it('are marked in the runs table, on the run page and in the Phases view', async () => {
    // Four sequences leave some label within noise, and the summary says how sure each is.
    const uncertain = runs.filter((r) => phaseUncertain(r.summary!.phaseConfidence));
    expect(uncertain.length).toBeGreaterThan(0);
    for (const r of runs) expect(r.summary!.phaseConfidence).toBeTypeOf('number');

    await page.evaluate(() => (location.hash = '#/runs'));
    for (const r of runs) {
      // The cell: the label, '?' where uncertain; its tooltip says how sure.
      const cell = page.locator(`tr[data-run-id="${r.id}"] td.phase`);
      const mark = phaseUncertain(r.summary!.phaseConfidence) ? '?' : '';
      await expect.poll(() => cell.textContent().then((t) => t?.trim())).toBe(`${r.summary!.phase}${mark}`);
      expect(await cell.getAttribute('title')).toBe(labelOf(r));
    }

    const r = uncertain[0];
    await page.evaluate((id) => (location.hash = `#/runs/${id}`), r.id);
    await expect.poll(() => page.getByTestId('phase').textContent()).toBe(labelOf(r));
    expect(labelOf(r)).toMatch(/ \(uncertain, \d+%\)$/);
    await page.getByTestId('phase').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('e2e', 'phase-uncertain-run') });

    await page.evaluate(() => (location.hash = '#/phases'));
    await expect.poll(() => page.getByTestId('heatmap-0').locator('canvas').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'show unseen/last_mse as a table' }).click();
    const table = page.getByRole('table', { name: 'unseen/last_mse data' });
    const rows = await table
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
    const byId = (a: string[], b: string[]) => a[0].localeCompare(b[0]);
    // Columns: the swept value, the (absent) second axis, the figure, then the phase, run and status.
    expect(rows.map(([, , , phase, id]) => [id, phase]).sort(byId)).toEqual(
      runs.map((x) => [`r${x.id}`, labelOf(x)]).sort(byId),
    );
    await page.screenshot({ path: screenshotPath('e2e', 'phase-uncertain-phases'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
