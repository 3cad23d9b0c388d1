// End to end, reinforcement learning: design an RL² run on a two-armed Bernoulli bandit in the generated form,
// start it, follow it to the end, and in its page see the training return and the within-lifetime curve, play
// the recorded lifetime on the canvas (frames advance, the canvas is drawn, the pull and reward update) and
// export it as a WebM video and an animated GIF. Then FME over a SymLA policy from its preset: the fitness over
// generations, the archive, the self-modification charts.
import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../main/services/lab';
import type { WebHost } from '../../main/web/server';
import { RL_STEP_METRICS } from '../../shared/objectives/rl';
import { openLabPage, screenshotPath } from '../helpers/browser';

let host: WebHost;
let lab: Lab;
let page: Page;
let pageErrors: string[];
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ lab, host, page, pageErrors, stop } = await openLabPage('metalab-rl-', 1));
});
afterAll(() => stop());

const textbox = (name: string) => page.getByRole('textbox', { name, exact: true });
/** Inputs whose label repeats across the form (several `Kind`s, `Name`s, `Hidden`s), by their spec path. */
const byPath = (path: string) => page.locator(`#field-${path.replace(/\./g, '_')}`);

/** Pixels of the viewer's canvas that differ from its corner (the background). */
function drawnPixels(p: Page): Promise<number> {
  return p.getByTestId('rollout-canvas').evaluate((el) => {
    const canvas = el as HTMLCanvasElement;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4)
      if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) n++;
    return n;
  });
}

describe('an RL run in the page', () => {
  it('designs RL² on a bandit, trains it, plays its rollout and exports it', async () => {
    await page.goto(host.url);
    await page.getByRole('link', { name: 'Design' }).click();
    // From an example without a sweep or a learner baseline: the form then needs only the RL fields.
    await page.getByRole('combobox', { name: 'example spec' }).selectOption('tiny-regression');
    await byPath('task.family').selectOption('rl');
    await byPath('task.env.name').selectOption('bernoulli-bandit');
    await textbox('Arms').fill('2');
    await textbox('Lifetime').fill('10');
    await page.getByRole('combobox', { name: 'Number of instances: kind of value' }).selectOption('fresh');
    await byPath('model.kind').selectOption('lstm');
    await byPath('model.hidden').fill('16');
    await textbox('Steps').fill('4');
    await textbox('Batch size').fill('8');
    await textbox('Every').fill('2');
    await textbox('Sequences').fill('16');
    const baseline = page.getByRole('checkbox', { name: 'Learner baseline' });
    if (await baseline.isChecked()) await baseline.uncheck();
    await expect.poll(() => page.getByTestId('spec-status').textContent()).toContain('valid · 1 run');
    await page.getByRole('tab', { name: 'JSON' }).click();
    const spec = JSON.parse(await page.locator('textarea[aria-label="experiment spec (JSON)"]').inputValue());
    expect(spec).toMatchObject({
      task: { family: 'rl', env: { name: 'bernoulli-bandit', arms: 2 }, episodesPerTrial: 10, numTasks: 'fresh' },
      model: { kind: 'lstm', hidden: 16 },
      training: { steps: 4 },
    });
    await page.getByRole('tab', { name: 'Form' }).click();

    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/runs$/);
    const row = page.locator('tr[data-run-id="1"]');
    await expect.poll(() => row.locator('.status').textContent(), { timeout: 90_000 }).toBe('finished');
    // When it started and how long it ran; created and finished on hover.
    expect(await row.getByTestId('started').textContent()).toMatch(/^\s*\d{4}-\d\d-\d\d \d\d:\d\d\s*$/);
    expect(await row.getByTestId('started').getAttribute('title')).toMatch(/^created \d{4}.*, finished \d{4}/);
    expect(await row.getByTestId('duration').textContent()).toMatch(/^\d+s$|^\d+m \d+s$/);
    await row.getByRole('link', { name: 'r1', exact: true }).click();

    // The training return beside the loss; the within-lifetime curve counts pulls.
    const trainReturn = RL_STEP_METRICS.trainReturn.label;
    await page.getByText(trainReturn[0].toUpperCase() + trainReturn.slice(1), { exact: true }).waitFor();
    await page.getByText('Return by step and pull', { exact: true }).waitFor();

    // The rollout: the latest evaluation's lifetime of 10 pulls, drawn at once.
    const viewer = page.getByTestId('rollout-viewer');
    await expect.poll(() => viewer.getByTestId('rollout-frame').textContent(), { timeout: 15_000 }).toBe('1/10');
    expect(await viewer.getByRole('combobox', { name: 'rollout evaluation step' }).inputValue()).toBe('4');
    await expect.poll(() => drawnPixels(page)).toBeGreaterThan(2000);
    expect(await viewer.getByTestId('rollout-episode').textContent()).toBe('1 of 10');
    expect(await viewer.getByTestId('rollout-probs').locator('li').count()).toBe(2);

    // Playing advances the frames, the pull counter and the running total; then it stops at the end.
    const before = await drawnPixelsSnapshot(page);
    await viewer.getByRole('combobox', { name: 'playback speed' }).selectOption('4');
    await viewer.getByRole('button', { name: 'play', exact: true }).click();
    await expect.poll(() => viewer.getByTestId('rollout-frame').textContent(), { timeout: 10_000 }).toBe('10/10');
    expect(await viewer.getByTestId('rollout-episode').textContent()).toBe('10 of 10');
    expect(await drawnPixelsSnapshot(page)).not.toBe(before);
    await expect.poll(() => viewer.getByRole('button', { name: 'play', exact: true }).count()).toBe(1);

    // Keys: the arrows step, space plays.
    await viewer.getByRole('button', { name: 'previous episode' }).click();
    expect(await viewer.getByTestId('rollout-frame').textContent()).toBe('9/10');
    await page.keyboard.press('ArrowLeft');
    expect(await viewer.getByTestId('rollout-episode').textContent()).toBe('8 of 10');
    await page.screenshot({ path: screenshotPath('e2e', 'rl-run'), fullPage: true });

    // Exports, named after the run, the step and the split.
    const split = await viewer.getByRole('combobox', { name: 'rollout split' }).inputValue();
    for (const [button, ext] of [
      ['WebM', 'webm'],
      ['GIF', 'gif'],
    ]) {
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 30_000 }),
        viewer.getByRole('button', { name: button, exact: true }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`run-1-step-4-${split}.${ext}`);
      const file = await download.path();
      expect(fs.statSync(file).size).toBeGreaterThan(1000);
    }
    expect(pageErrors).toEqual([]);
  });

  it('starts FME with a SymLA policy from its preset and shows its fitness and archive', async () => {
    await page.goto(`${host.url.split('#')[0]}#/design?preset=fme-bandits-swap`);
    // The preset comes from the lab: the form may show the draft until it has arrived.
    await expect.poll(() => byPath('model.kind').inputValue(), { timeout: 10_000 }).toBe('symla');
    expect(await byPath('task.algorithm.kind').inputValue()).toBe('fme');
    await byPath('task.algorithm.evaluations').fill('3');
    await textbox('Lifetime').fill('6');
    await byPath('task.env.swapAt').fill('3');
    await textbox('Steps').fill('4');
    await textbox('Batch size').fill('4');
    await textbox('Every').fill('2');
    await textbox('Sequences').fill('8');
    await expect.poll(() => page.getByTestId('spec-status').textContent()).toContain('valid · 1 run');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/runs$/);
    const row = page.locator('tr[data-run-id="2"]');
    await expect.poll(() => row.locator('.status').textContent(), { timeout: 90_000 }).toBe('finished');
    await row.getByRole('link', { name: 'r2', exact: true }).click();

    await page.getByText('Fitness over generations', { exact: true }).waitFor();
    await page.getByText('Archive at step 4', { exact: true }).waitFor();
    for (const metric of [RL_STEP_METRICS.modificationSize, RL_STEP_METRICS.lineageDepth])
      await page.getByText(metric.label[0].toUpperCase() + metric.label.slice(1), { exact: true }).waitFor();
    // No gradient: no gradient-norm chart.
    expect(await page.getByText('Gradient norm', { exact: true }).count()).toBe(0);
    // The two-armed bandit's lifetime in the viewer: two arms' probabilities.
    const viewer = page.getByTestId('rollout-viewer');
    await expect.poll(() => viewer.getByTestId('rollout-frame').textContent(), { timeout: 15_000 }).toBe('1/6');
    expect(await viewer.getByTestId('rollout-probs').locator('li').count()).toBe(2);
    await page.screenshot({ path: screenshotPath('e2e', 'fme-run'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});

describe('addresses the lab does not know', () => {
  it('say so: an unknown page, a run id that is not a number, a run that is not in the lab', async () => {
    const base = host.url.split('#')[0];
    for (const [hash, text] of [
      ['#/nowhere', 'There is no page at #/nowhere in this lab.'],
      ['#/runs/abc', 'There is no page at #/runs/abc in this lab.'],
      ['#/runs/999', 'There is no run r999 in this lab: it may have been deleted.'],
    ]) {
      await page.goto(`${base}${hash}`);
      await expect.poll(() => page.getByTestId('not-found').textContent()).toContain(text);
    }
    await page.getByRole('link', { name: 'runs', exact: true }).first().click();
    await page.waitForURL(/#\/runs$/);
    expect(pageErrors).toEqual([]);
  });
});

describe('the header', () => {
  it('sets how many runs the lab trains at once', async () => {
    const atOnce = page.getByRole('combobox', { name: 'runs at a time' });
    expect(await atOnce.inputValue()).toBe('1');
    await atOnce.selectOption('3');
    await expect.poll(async () => (await lab.getInfo()).concurrency).toBe(3);
    await page.reload();
    await expect.poll(() => page.getByRole('combobox', { name: 'runs at a time' }).inputValue()).toBe('3');
    expect(pageErrors).toEqual([]);
  });
});

/** A digest of the canvas's pixels, to tell frames apart. */
function drawnPixelsSnapshot(p: Page): Promise<string> {
  return p.getByTestId('rollout-canvas').evaluate((el) => (el as HTMLCanvasElement).toDataURL());
}
