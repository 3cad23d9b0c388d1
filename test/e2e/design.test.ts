import fs from 'node:fs';
import os from 'node:os';
// End to end: design a sweep in the generated form, see its plan, start it, follow it in the runs table,
// tag the experiment, delete a run; share the spec as a link and rerun a run with changes.
import type { Store } from '../../main/services/store/index';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { appRoot } from '../../main/services/paths';
import type { Lab } from '../../main/services/lab';
import { openLabPage, screenshotPath } from '../helpers/browser';
import type { WebHost } from '../../main/web/server';

let browser: Browser;
let host: WebHost;
let lab: Lab;
let store: Store;
let page: Page;
let pageErrors: string[];
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ lab, store, host, browser, page, pageErrors, stop } = await openLabPage('metalab-design-', 1));
});
afterAll(() => stop());

const textbox = (name: string) => page.getByRole('textbox', { name, exact: true });
/** The form row holding a control, where its messages show. */
const rowOf = (control: Locator) => page.locator('.field', { has: control });

async function setTheme(theme: 'light' | 'dark'): Promise<void> {
  const toggle = page.getByRole('button', { name: `switch to ${theme} theme` });
  if (await toggle.count()) await toggle.click();
}

describe('designing and following an experiment', () => {
  it('designs a sweep in the form, shows its plan, and follows its runs', async () => {
    await page.goto(host.url);
    await page.getByRole('link', { name: 'Design' }).click();
    await page.getByRole('combobox', { name: 'example spec' }).selectOption('tiny-regression');
    await expect.poll(() => page.getByTestId('spec-status').textContent()).toContain('valid · 1 run');

    // A model kind from the registry: its fields appear with their defaults.
    await page.getByRole('combobox', { name: 'Kind', exact: true }).selectOption('transformer');
    await expect.poll(() => textbox('Width (dModel)').inputValue()).toBe('64');
    await textbox('Width (dModel)').fill('16');
    await textbox('Layers').fill('1');

    // A value out of range is refused beside its field, and the experiment cannot start.
    const steps = textbox('Steps');
    await steps.fill('0');
    await expect
      .poll(() => rowOf(steps).locator('.message').textContent())
      .toMatch(/^training\.steps: Too small: expected number to be >=1/);
    expect(await steps.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('button', { name: 'Start' }).isDisabled()).toBe(true);
    await steps.fill('400');
    await expect.poll(() => rowOf(steps).locator('.message').count()).toBe(0);

    // A sweep over the number of tasks, including fresh tasks.
    await page.getByRole('button', { name: '+ Add sweep axis' }).click();
    const axisField = page.getByRole('combobox', { name: 'sweep axis 1: field' });
    await axisField.selectOption('task.numTasks');
    // The picker names fields as the form does, under the form's sections.
    const picked = axisField.locator('option:checked');
    expect(await picked.textContent()).toBe('Number of tasks');
    expect(await picked.evaluate((o) => (o.parentElement as HTMLOptGroupElement).label)).toBe('Task');
    expect(await axisField.locator('optgroup[label="Model"] option', { hasText: 'Width (dModel)' }).count()).toBe(1);
    await page.getByRole('textbox', { name: 'sweep axis 1: values' }).fill('4, fresh');
    await expect.poll(() => page.getByTestId('spec-status').textContent()).toContain('valid · 2 runs');
    expect(await page.locator('.field', { hasText: 'Number of tasks' }).locator('.swept').textContent()).toContain(
      '4, fresh',
    );

    // The plan: each run's model size and an estimate measured on this machine.
    const planRows = page.getByTestId('plan-runs').locator('tbody tr');
    await expect.poll(() => planRows.count(), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => page.getByTestId('plan-estimating').count(), { timeout: 30_000 }).toBe(0);
    const firstPlanRow = (await planRows.nth(0).locator('td').allTextContents()).map((t) => t.trim());
    expect(firstPlanRow[0]).toBe('numTasks=4');
    const planned = await lab.planExperiment(JSON.parse(await jsonOf(page)));
    expect(firstPlanRow[1]).toBe(planned.runs[0].paramCount.toLocaleString('en-US'));
    expect(firstPlanRow[3]).toMatch(/^\d+(\.\d)? s .*\/step$/);
    expect(await page.getByTestId('plan-wall').textContent()).toMatch(/\d/);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: screenshotPath('e2e', 'design-form'), fullPage: true });
    await setTheme('dark');
    await page.screenshot({ path: screenshotPath('e2e', 'design-form-dark'), fullPage: true });
    await setTheme('light');

    // The JSON tab holds the same spec.
    await page.getByRole('tab', { name: 'JSON' }).click();
    const spec = JSON.parse(await page.getByRole('textbox', { name: 'experiment spec (JSON)' }).inputValue());
    expect(spec).toMatchObject({
      model: { kind: 'transformer', dModel: 16, layers: 1 },
      training: { steps: 400 },
      sweep: { axes: [{ path: 'task.numTasks', values: [4, 'fresh'] }] },
    });
    await page.getByRole('tab', { name: 'Form' }).click();

    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/runs$/);
    const first = page.locator('tr[data-run-id="1"]');
    const progress = () => first.getByRole('progressbar').getAttribute('aria-valuenow').then(Number);
    await expect.poll(progress, { timeout: 30_000 }).toBeGreaterThan(0);
    const seen = new Set<number>();
    const distinct = async () => seen.add(await progress()).size;
    await expect.poll(distinct, { timeout: 30_000, interval: 100 }).toBeGreaterThan(2);
    expect(await first.getByTestId('live').textContent()).toMatch(/ETA .* · [\d,]+ ex\/s/);
    expect(await page.locator('tr[data-run-id="2"] .status').textContent()).toBe('queued');
    // The delete dialog follows the run: it is running when asked, then it finishes while the dialog is open.
    await page.getByRole('button', { name: 'delete run r1' }).click();
    const body = page.getByTestId('confirm-body');
    expect(await body.textContent()).toContain('is running; it will be stopped');
    await expect.poll(() => body.textContent(), { timeout: 45_000 }).not.toContain('is running');
    expect(await first.locator('.status').textContent()).toBe('finished');
    await page.getByRole('dialog').getByRole('button', { name: 'Keep' }).click();
    await page.screenshot({ path: screenshotPath('e2e', 'runs-live') });
    await setTheme('dark');
    await page.screenshot({ path: screenshotPath('e2e', 'runs-live-dark') });
    await setTheme('light');

    // Tags edited in place.
    await page.getByRole('button', { name: /^tags of e1/ }).click();
    const tags = page.getByRole('textbox', { name: 'tags of e1' });
    await tags.fill('smoke, e2e');
    await tags.press('Enter');
    await expect.poll(async () => (await lab.listExperiments())[0].tags).toEqual(['smoke', 'e2e']);
    await expect.poll(() => page.locator('[data-experiment-id="1"] .tag').allTextContents()).toEqual(['smoke', 'e2e']);
    // Notes: Shift+Enter breaks the line, Enter saves; leaving the field saves too; Cancel drops the edit.
    const notes = () => page.getByRole('textbox', { name: 'notes on e1' });
    await page.getByRole('button', { name: /^notes on e1/ }).click();
    await notes().fill('first line');
    await notes().press('Shift+Enter');
    await notes().pressSequentially('second');
    await notes().press('Enter');
    await expect.poll(async () => (await lab.listExperiments())[0].notes).toBe('first line\nsecond');
    await page.getByRole('button', { name: /^notes on e1/ }).click();
    await notes().fill('kept by leaving');
    await page.getByRole('heading', { name: 'Runs' }).click();
    await expect.poll(async () => (await lab.listExperiments())[0].notes).toBe('kept by leaving');
    await page.getByRole('button', { name: /^notes on e1/ }).click();
    await notes().fill('dropped');
    await page.locator('[data-experiment-id="1"] .notes').getByRole('button', { name: 'Cancel' }).click();
    expect(await notes().count()).toBe(0);
    expect((await lab.listExperiments())[0].notes).toBe('kept by leaving');

    await expect
      .poll(() => page.locator('tr[data-run-id="2"] .status').textContent(), { timeout: 45_000 })
      .toBe('finished');
    expect(await first.locator('.status').textContent()).toBe('finished');

    // Sorting by a column reorders the runs and says so.
    const runHeader = page.getByRole('columnheader', { name: /Run/ });
    await runHeader.getByRole('button').click();
    expect(await runHeader.getAttribute('aria-sort')).toBe('descending');
    expect(
      await page.locator('tr[data-run-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id'))),
    ).toEqual(['2', '1']);

    // Deleting asks first; keeping changes nothing, confirming removes the run and its metrics.
    await page.getByRole('button', { name: 'delete run r2' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Keep' }).click();
    expect(await page.locator('tr[data-run-id="2"]').count()).toBe(1);
    expect(store.metricKeys(2).length).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'delete run r2' }).click();
    expect(await page.getByRole('dialog').textContent()).toContain('Delete run r2?');
    await page.getByRole('dialog').getByRole('button', { name: 'Delete run' }).click();
    await expect.poll(() => page.locator('tr[data-run-id="2"]').count()).toBe(0);
    expect(store.metricKeys(2)).toEqual([]);
    await page.screenshot({ path: screenshotPath('e2e', 'runs-finished') });
    await setTheme('dark');
    await page.screenshot({ path: screenshotPath('e2e', 'runs-finished-dark') });
    await setTheme('light');
    expect(pageErrors).toEqual([]);
  });

  // Up to 120 s: a step that truly hangs still fails at its own 30 s action timeout, naming itself.
  it('reruns a run with changes, shares a spec as a link that opens pre-filled, and imports a spec file', async () => {
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.locator('tr[data-run-id="1"]').getByRole('link', { name: 'Rerun…' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Loaded the spec of run r1');
    expect(await textbox('Width (dModel)').inputValue()).toBe('16');
    expect(await page.locator('.field', { hasText: 'Number of tasks' }).getByRole('textbox').inputValue()).toBe('4');
    // It keeps its experiment's description and tags (as edited in the runs table).
    const e1 = (await lab.listExperiments()).find((e) => e.id === 1)!;
    await page.getByRole('tab', { name: 'JSON' }).click();
    const rerun = JSON.parse(await page.locator('textarea[aria-label="experiment spec (JSON)"]').inputValue());
    expect(rerun.tags).toEqual(['smoke', 'e2e']);
    expect(rerun.description).toBe(e1.spec.description);
    await page.getByRole('tab', { name: 'Form' }).click();

    await textbox('Seed').fill('42');
    await page.getByRole('button', { name: 'Copy link' }).click();
    const link = await page.getByRole('textbox', { name: 'shareable link' }).inputValue();
    expect(link).toMatch(/#\/design\?spec=[\w-]+$/);

    const other = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    other.on('pageerror', (e) => pageErrors.push(e.message));
    await other.goto(host.url);
    await other.getByRole('link', { name: 'Runs' }).waitFor();
    await other.goto(link);
    await expect.poll(() => other.getByRole('status').textContent()).toContain('Opened the spec from a shared link');
    expect(await other.getByRole('textbox', { name: 'Seed', exact: true }).inputValue()).toBe('42');
    await expect.poll(() => other.getByTestId('spec-status').textContent()).toContain('valid · 1 run');
    await expect.poll(() => other.getByTestId('plan-runs').count(), { timeout: 30_000 }).toBe(1);
    await other.screenshot({ path: screenshotPath('e2e', 'design-shared-1100'), fullPage: true });
    expect(await other.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1100);
    await other.close();

    // A spec file (here a paper preset) imported into the designer.
    await page
      .getByLabel('import a spec file')
      .setInputFiles(path.join(appRoot(), 'presets', 'plateau-batch-size.json'));
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Imported plateau-batch-size.json');
    expect(await textbox('Name').inputValue()).toBe('Loss plateaus: meta-batch size');
    expect(await textbox('Tags').inputValue()).toBe('paper, gpicl, plateau');
    await expect.poll(() => page.getByTestId('spec-status').textContent()).toContain('valid · 4 runs');

    // A spec naming a dataset this lab does not have is refused by the lab's check, naming the field.
    const preset = JSON.parse(fs.readFileSync(path.join(appRoot(), 'presets', 'plateau-batch-size.json'), 'utf8')) as {
      task: object;
    };
    const unknown = path.join(os.tmpdir(), `metalab-unknown-dataset-${process.pid}.json`);
    fs.writeFileSync(unknown, JSON.stringify({ ...preset, task: { ...preset.task, dataset: 'no-such-dataset' } }));
    await page.getByLabel('import a spec file').setInputFiles(unknown);
    // Not removed before the page has read it: Chromium reads a chosen file from disk when the page asks.
    await expect
      .poll(() => page.getByTestId('spec-issues').textContent())
      .toContain("task.dataset: unknown dataset 'no-such-dataset'");
    fs.rmSync(unknown);
    expect(await page.getByRole('button', { name: 'Start' }).isDisabled()).toBe(true);

    // A 3 MiB file is refused before it is read or sent, naming the file and the limit; the lab still answers.
    const big = JSON.stringify({ ...preset, description: 'x'.repeat(3 * 2 ** 20) });
    await page.getByLabel('import a spec file').setInputFiles({
      name: 'huge.json',
      mimeType: 'application/json',
      buffer: Buffer.from(big),
    });
    await page
      .getByRole('alert')
      .filter({ hasText: 'Cannot import huge.json: it is 3.0 MiB; a spec file can be at most 1 MiB.' })
      .waitFor();
    await page.reload();
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.locator('tr[data-run-id="1"]').waitFor();
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('starts from an empty spec of a task family, and keeps the draft across a reload', async () => {
    await page.getByRole('link', { name: 'Design' }).click();
    await page.getByRole('combobox', { name: 'example spec' }).selectOption('empty-rl');
    const empty = JSON.parse(await jsonOf(page));
    expect(empty).toEqual({ name: 'untitled', task: { family: 'rl' }, model: { kind: 'mlp' } });
    await expect.poll(() => page.getByTestId('spec-status').textContent()).toContain('valid · 1 run');
    await textbox('Name').fill('my draft');
    await expect.poll(async () => JSON.parse(await jsonOf(page)).name).toBe('my draft');
    await page.reload();
    await expect.poll(() => textbox('Name').inputValue()).toBe('my draft');
    expect(JSON.parse(await jsonOf(page)).task.family).toBe('rl');
    expect(pageErrors).toEqual([]);
  });
});

/** The JSON tab's text (read while the tab is hidden, so not through the accessibility tree). */
async function jsonOf(p: Page): Promise<string> {
  return p.locator('textarea[aria-label="experiment spec (JSON)"]').inputValue();
}
