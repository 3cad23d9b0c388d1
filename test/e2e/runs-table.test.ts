// End to end: the runs table's own columns (remembered across reloads), its query language and its grouping,
// on three tiny finished runs of two experiments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Run } from '../../shared/api';
import type { Lab } from '../../main/services/lab';
import { openLabPage, screenshotPath } from '../helpers/browser';
import { finishedRuns } from '../helpers/lab';
import type { WebHost } from '../../main/web/server';
import { tinySpec } from '../helpers/specs';

let host: WebHost;
let page: Page;
let lab: Lab;
let runs: Run[];
let stop: () => Promise<void>;
let pageErrors: string[];

const tiny = { training: { steps: 10, batchSize: 8, checkpointEvery: 10 }, evaluation: { every: 10, sequences: 16 } };

beforeAll(async () => {
  ({ lab, host, page, pageErrors, stop } = await openLabPage('metalab-e2e-runs-', 2));
  // r1: MLP on 4 tasks, r2: MLP on 256 (both tagged gpicl); r3: an LSTM on fresh tasks.
  await lab.createExperiment(
    tinySpec({
      name: 'mlp pool',
      tags: ['gpicl'],
      ...tiny,
      sweep: { axes: [{ path: 'task.numTasks', values: [4, 256] }] },
    }),
  );
  await lab.createExperiment(
    tinySpec({
      name: 'lstm fresh',
      ...tiny,
      task: { family: 'linear-regression', dim: 4, seqLen: 8, numTasks: 'fresh' },
      model: { kind: 'lstm', hidden: 8 },
    }),
  );
  runs = await finishedRuns(lab);
  await page.goto(`${host.url}#/runs`);
  await page.locator('tr[data-run-id="3"]').waitFor();
}, 60_000);
afterAll(() => stop());

/** The run ids of the table's rows, top to bottom. */
const rowIds = () =>
  page.locator('tr[data-run-id]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-run-id'))));
const search = () => page.getByRole('searchbox', { name: 'filter runs' });

describe('the runs table', () => {
  it('adds columns of spec fields and summary figures, sorts by them, and remembers them across a reload', async () => {
    const add = page.getByRole('combobox', { name: 'add a column' });
    await add.selectOption('spec:model.kind');
    await add.selectOption('figure:param_count');
    expect(await add.inputValue()).toBe('');
    const kinds = () => page.locator('td[data-column="spec:model.kind"]').allTextContents();
    expect((await kinds()).map((t) => t.trim())).toEqual(['lstm', 'mlp', 'mlp']);
    const header = page.locator('th[data-column="figure:param_count"]');
    expect(await header.textContent()).toContain('parameters');

    // One group, sorted by the parameter count, as the lab stored it.
    await page.getByRole('combobox', { name: 'group runs by' }).selectOption('status');
    await header.getByRole('button', { name: 'parameters', exact: true }).click();
    await header.getByRole('button', { name: 'parameters', exact: true }).click();
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    const count = (r: Run) => r.summary!.figures.param_count!;
    const expected = [...runs].sort((a, b) => count(b) - count(a) || a.id - b.id).map((r) => r.id);
    expect(new Set(runs.map(count)).size).toBeGreaterThan(1);
    expect(await rowIds()).toEqual(expected);
    const cells = await page.locator('td[data-column="figure:param_count"]').allTextContents();
    expect(cells.map((t) => Number(t.trim().replaceAll(',', '')))).toEqual(
      expected.map((id) => count(runs.find((r) => r.id === id)!)),
    );

    await page.reload();
    await page.locator('tr[data-run-id="3"]').waitFor();
    const columns = await page.locator('th[data-column]').evaluateAll((ths) => ths.map((t) => t.dataset.column));
    expect(columns).toEqual(['spec:model.kind', 'figure:param_count']);
    // The grouping and the sort are remembered too.
    const group = page.getByRole('combobox', { name: 'group runs by' });
    expect(await group.inputValue()).toBe('status');
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    expect(await rowIds()).toEqual(expected);
    await page.screenshot({ path: screenshotPath('e2e', 'runs-columns'), fullPage: true });
    // In a narrow window the table scrolls, and each run's actions stay at its right edge, in view.
    await page.setViewportSize({ width: 1000, height: 900 });
    const table = await page.getByTestId('runs-table').evaluate((t) => [t.scrollWidth, t.parentElement!.clientWidth]);
    expect(table[0]).toBeGreaterThan(table[1]);
    const box = await page.getByRole('button', { name: 'delete run r1' }).boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(1000);
    await page.setViewportSize({ width: 1400, height: 900 });

    // A sort by a column no longer shown goes back to the run id.
    await page.getByRole('button', { name: 'remove column parameters' }).click();
    await page.reload();
    await page.locator('tr[data-run-id="3"]').waitFor();
    expect(await page.locator('th[data-column]').count()).toBe(1);
    expect(await rowIds()).toEqual([1, 2, 3]);
    await group.selectOption('experiment');
  });

  it('filters by a query, shows where a malformed one is wrong, and keeps plain text as a search', async () => {
    await search().fill('model.kind = lstm or task.numTasks >= 256');
    await expect.poll(rowIds).toEqual([3, 2]);
    expect(await page.getByText('2 of 3 runs').count()).toBe(1);
    await search().fill('tag = gpicl and not numTasks > 100');
    await expect.poll(rowIds).toEqual([1]);
    expect(await page.getByTestId('query-error').textContent()).toBe('');

    await search().fill('task.numTasks >= and status = finished');
    await expect
      .poll(() => page.getByTestId('query-error').textContent())
      .toContain(`column 18: expected a value after '>=' (a number, a word or "text"), found 'and'`);
    expect(await search().getAttribute('aria-invalid')).toBe('true');
    await expect.poll(rowIds).toEqual([3, 1, 2]);
    await search().fill('numTask = 4');
    await expect.poll(() => page.getByTestId('query-error').textContent()).toContain("unknown field 'numTask'");

    await search().fill('lstm');
    await expect.poll(rowIds).toEqual([3]);
    await search().fill('');
    await expect.poll(rowIds).toEqual([3, 1, 2]);
  });

  it('groups runs by any field across experiments, labelled with the value and counted', async () => {
    const group = page.getByRole('combobox', { name: 'group runs by' });
    const groups = () =>
      page
        .locator('tr.experiment .experiment-row')
        .evaluateAll((rows) =>
          rows.map((r) => `${r.querySelector('.name')?.textContent} · ${r.querySelector('.counts')?.textContent}`),
        );
    await group.selectOption('task.numTasks');
    await expect
      .poll(groups)
      .toEqual([
        'task.numTasks = 4 · 1 run: 1 finished',
        'task.numTasks = 256 · 1 run: 1 finished',
        'task.numTasks = fresh · 1 run: 1 finished',
      ]);
    await group.selectOption('tag');
    await expect.poll(groups).toEqual(['tag = gpicl · 2 runs: 2 finished', 'no tag · 1 run: 1 finished']);
    await page.getByRole('button', { name: 'show the runs of tag = gpicl' }).click();
    await expect.poll(rowIds).toEqual([3]);
    await search().fill('numTasks >= 256');
    await group.selectOption('model.kind');
    await expect.poll(groups).toEqual(['model.kind = mlp · 1 run: 1 finished']);
    await page.screenshot({ path: screenshotPath('e2e', 'runs-grouped'), fullPage: true });

    await group.selectOption('experiment');
    await expect.poll(() => page.locator('tbody[data-experiment-id]').count()).toBe(1);
    await search().fill('');
    await expect.poll(() => page.locator('tbody[data-experiment-id]').count()).toBe(2);
    expect(pageErrors).toEqual([]);
  });
});
