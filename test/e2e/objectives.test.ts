// End to end, learned objectives (MetaGenRL): a tiny meta-training run stores an objective; in the page its
// meta-training panel shows the population and what the objective learned; the Objectives view lists the objective,
// exports it as a file, deletes it and imports the file back, renames it; the designer picks it as the learner of a
// learned-objective experiment on Pendulum-v1 and starts that meta-test; the runs are labelled by the objective, the
// meta-test chart shows them, and deleting an objective an experiment names is refused with its reason.
import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectiveFile } from '../../shared/learnedObjective';
import type { ExperimentSpecInput } from '../../shared/spec';
import type { Lab } from '../../main/services/lab';
import type { WebHost } from '../../main/web/server';
import { openLabPage, screenshotPath } from '../helpers/browser';
import { finishedRuns } from '../helpers/lab';

let host: WebHost;
let page: Page;
let lab: Lab;
let pageErrors: string[];
let stop: () => Promise<void>;

/** Four agents on Pendulum and point-mass, 120 steps: seconds on two cores. */
const metaTraining: ExperimentSpecInput = {
  name: 'tiny meta-training',
  seed: 3,
  backend: 'wasm',
  task: {
    family: 'rl',
    env: { name: 'Pendulum-v1', physics: 0.2, maxSteps: 50 },
    moreEnvs: [{ name: 'point-mass', physics: 0, maxSteps: 40 }],
    numTasks: 'fresh',
    algorithm: {
      kind: 'metagenrl',
      population: 4,
      randomSteps: 20,
      bufferSize: 1000,
      trajectoryLength: 4,
      warmupSteps: 40,
      objective: { units: 8, depth: 2, lstm: 8, valueFeatures: 4 },
    },
  },
  model: { kind: 'mlp', hidden: [16, 16] },
  training: { steps: 120, batchSize: 8, learningRate: 1e-3, gradClip: 1 },
  evaluation: { every: 40, sequences: 2 },
} as ExperimentSpecInput;

beforeAll(async () => {
  ({ lab, host, page, pageErrors, stop } = await openLabPage('metalab-e2e-objectives-', 1));
  const { experimentId } = await lab.createExperiment(metaTraining);
  await finishedRuns(lab, experimentId, 90_000);
  await page.goto(host.url);
}, 120_000);
afterAll(() => stop());

/** Form inputs by their spec path (labels such as `Kind` repeat across the form). */
const byPath = (path: string) => page.locator(`#field-${path.replace(/\./g, '_')}`);
const rows = () => page.getByTestId('objectives-table').locator('tr[data-objective-id]');

describe('learned objectives in the page', () => {
  it("shows a MetaGenRL run's meta-training: agents by environment, what the objective learned", async () => {
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.locator('tr[data-run-id="1"]').getByRole('link', { name: 'r1', exact: true }).click();
    const panel = page.getByTestId('meta-training');
    await panel.getByText('Stores the objective').waitFor();
    for (const title of ["Population's training returns", 'Objective alignment', 'Action saturation'])
      await panel.getByRole('heading', { name: title }).waitFor();
    // The agents' legend names each agent's environment: agent i trains on environment i mod 2.
    await panel.getByRole('button', { name: "show Population's training returns as a table" }).click();
    const agents = panel.getByRole('table', { name: "Population's training returns data" });
    const names = new Set(await agents.locator('tbody tr td:first-child').allTextContents());
    expect([...names].sort()).toEqual([
      'agent 0 · Pendulum-v1',
      'agent 1 · point-mass',
      'agent 2 · Pendulum-v1',
      'agent 3 · point-mass',
    ]);
    // The picture at the latest evaluation (step 120), one point per valid step of agent 0's sub-trajectories.
    const picture = panel.getByRole('combobox', { name: 'objective picture evaluation step' });
    expect(await picture.inputValue()).toBe('120');
    await panel.getByRole('button', { name: 'show What the objective learned as a table' }).click();
    const points = panel.getByRole('table', { name: 'What the objective learned data' }).locator('tbody tr');
    expect(await points.count()).toBeGreaterThan(4);
    // The rollout viewer plays every agent's recorded lifetime, each on its own environment.
    const viewer = page.getByTestId('rollout-viewer');
    const split = viewer.getByRole('combobox', { name: 'rollout split' });
    const latest = Math.max(...(await lab.listRollouts(1)).map((r) => r.step));
    const envs = new Set<string>();
    for (const option of await split.locator('option').allTextContents()) {
      const { env } = await lab.getRollout(1, latest, option);
      envs.add(env);
      await split.selectOption(option);
      await viewer.getByRole('button', { name: `the agent in ${env}: press to play or pause` }).waitFor();
      expect(await viewer.getByTestId('rollout-env').count()).toBe(env === 'Pendulum-v1' ? 0 : 1);
    }
    expect(envs).toEqual(new Set(['Pendulum-v1', 'point-mass']));
    await page.screenshot({ path: screenshotPath('e2e', 'metagenrl-run'), fullPage: true });
  });

  let file: string;
  let sha256: string;

  it('lists the stored objective, exports it, deletes it and imports the file back', async () => {
    await page.getByRole('link', { name: 'Objectives' }).click();
    await expect.poll(() => rows().count()).toBe(1);
    const row = rows().first();
    expect(await row.textContent()).toContain('Pendulum-v1, point-mass');
    await row.getByRole('link', { name: 'r1', exact: true }).waitFor();
    const [stored] = await lab.listObjectives();
    sha256 = stored.sha256;
    expect(await row.locator('td.mono').textContent()).toBe(sha256.slice(0, 8));

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('button', { name: `export ${stored.name}` }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${stored.name}.objective.json`);
    file = await download.path();
    const parsed = objectiveFile.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
    expect(parsed.sha256).toBe(sha256);

    await row.getByRole('button', { name: `delete ${stored.name}` }).click();
    await page.getByRole('button', { name: 'Delete objective' }).click();
    await expect.poll(() => rows().count()).toBe(0);

    await page.getByLabel('import an objective file').setInputFiles({
      name: 'shared.objective.json',
      mimeType: 'application/json',
      buffer: fs.readFileSync(file),
    });
    await page.getByRole('status').filter({ hasText: 'Imported' }).waitFor();
    await expect.poll(() => rows().count()).toBe(1);
    expect(await rows().first().textContent()).toContain('shared.objective.json');
    expect((await lab.listObjectives())[0]).toMatchObject({
      sha256,
      lineage: { importedFrom: 'shared.objective.json' },
    });

    // A file that is not an objective is refused in one sentence.
    await page.getByLabel('import an objective file').setInputFiles({
      name: 'notes.json',
      mimeType: 'application/json',
      buffer: Buffer.from('{"format": "something else"}'),
    });
    const refusal = page.getByRole('alert').filter({ hasText: 'Cannot import notes.json' });
    await refusal.waitFor();
    expect((await refusal.textContent())!.trim().split('\n')).toHaveLength(1);

    // Renamed in place.
    await rows()
      .first()
      .getByRole('button', { name: /^name of the objective/ })
      .click();
    await rows().first().getByRole('textbox').fill('tiny objective');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await lab.listObjectives())[0].name).toBe('tiny objective');
    await page.screenshot({ path: screenshotPath('e2e', 'metagenrl-objectives'), fullPage: true });
  });

  it('picks the objective in the designer and starts a meta-test on Pendulum-v1', async () => {
    await page.getByRole('link', { name: 'Design' }).click();
    await page.getByRole('combobox', { name: 'example spec' }).selectOption('td3-pendulum');
    await byPath('task.algorithm.kind').selectOption('learned-objective');
    const objective = byPath('task.algorithm.objective');
    const labels = await objective.locator('option').allTextContents();
    expect(labels[0]).toBe(`tiny objective · ${sha256.slice(0, 8)} · Pendulum-v1, point-mass`);
    expect(labels.slice(1).map((l) => l.split(' ')[0])).toEqual(['latest', 'random']);
    await objective.selectOption(sha256);
    // A budget of seconds: 30 steps, the first 10 at random, evaluated every 10; three seeds (the preset's sweep).
    await byPath('training.steps').fill('30');
    await byPath('task.algorithm.randomSteps').fill('10');
    await byPath('training.batchSize').fill('16');
    await byPath('evaluation.every').fill('10');
    await byPath('evaluation.sequences').fill('2');
    await expect.poll(() => page.getByTestId('spec-status').textContent()).toContain('valid · 3 runs');
    await page.getByRole('tab', { name: 'JSON' }).click();
    const spec = JSON.parse(await page.locator('textarea[aria-label="experiment spec (JSON)"]').inputValue());
    expect(spec.task).toMatchObject({
      env: { name: 'Pendulum-v1' },
      algorithm: { kind: 'learned-objective', objective: sha256 },
    });
    await page.getByRole('tab', { name: 'Form' }).click();
    await objective.scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('e2e', 'metagenrl-designer') });

    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/runs$/);
    const experimentId = Math.max(...(await lab.listExperiments()).map((e) => e.id));
    const runs = await finishedRuns(lab, experimentId, 90_000);
    expect(runs).toHaveLength(3);
    const row = page.locator(`tr[data-run-id="${runs[0].id}"]`);
    await expect.poll(() => row.getByTestId('learner').textContent()).toContain('objective "tiny objective"');

    // The same agents trained by a random objective: the baseline the meta-test compares with.
    const random = { ...spec, name: 'random objective', task: { ...spec.task, algorithm: { ...spec.task.algorithm } } };
    random.task.algorithm.objective = 'random';
    await finishedRuns(lab, (await lab.createExperiment(random)).experimentId, 90_000);
  });

  it('shows the meta-test, opens a new one, and refuses to delete an objective an experiment names', async () => {
    await page.getByRole('link', { name: 'Objectives' }).click();
    await rows().first().getByRole('link', { name: 'meta-test of tiny objective' }).click();
    const metaTest = page.getByTestId('meta-test');
    await metaTest.getByRole('heading', { name: 'Pendulum-v1: return on unseen instances' }).waitFor();
    const equal = metaTest.getByRole('table', { name: 'Pendulum-v1: learners at equal steps' });
    const learners = () => equal.locator('tbody tr td:first-child').allTextContents();
    await expect.poll(learners).toEqual(['objective "tiny objective"', 'random objective']);
    const seeds = await equal.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(seeds).toEqual(['3', '3']);
    await page.screenshot({ path: screenshotPath('e2e', 'metagenrl-meta-test'), fullPage: true });

    await metaTest.getByRole('link', { name: 'New meta-test' }).click();
    await page.getByRole('status').filter({ hasText: 'A meta-test of the objective "tiny objective"' }).waitFor();
    expect(await byPath('task.algorithm.objective').inputValue()).toBe(sha256);
    expect(await byPath('task.env.name').inputValue()).toBe('CartPoleContinuous');

    await page.getByRole('link', { name: 'Objectives' }).click();
    await rows().first().getByRole('button', { name: 'delete tiny objective' }).click();
    await page.getByRole('button', { name: 'Delete objective' }).click();
    await page.getByRole('alert').filter({ hasText: 'is not deleted' }).waitFor();
    expect(await rows().count()).toBe(1);
    expect(await lab.listObjectives()).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  });
});
