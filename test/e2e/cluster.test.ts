// End to end on a real SLURM cluster (Debian's slurm-wlm, started by the test on private ports and folders): the
// cluster profile's form (a bad value refused at its field, a change saved), a sweep designed to run on the cluster,
// and its runs followed in the page: SLURM's job and state in the table and on the run's page, and its steps live.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../main/services/lab';
import { rendererDir } from '../../main/services/paths';
import type { Store } from '../../main/services/store/index';
import { startWebHost, type WebHost } from '../../main/web/server';
import { clusterProfile } from '../../shared/cluster';
import { launchChromium, screenshotPath } from '../helpers/browser';
import { finishedRuns, testLab } from '../helpers/lab';
import { nodeGate, type SlurmCluster, slurmAvailable, startSlurm } from '../helpers/slurm';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

const available = slurmAvailable('the SLURM page test');
let cluster: SlurmCluster | null = null;
let lab: Lab | undefined;
let store: Store | undefined;
let host: WebHost | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];
/** Run 1's node waits at it: the test sees the run RUNNING before its worker starts, then its steps from the first. */
let gate: ReturnType<typeof nodeGate>;

beforeAll(async () => {
  if (!available) return;
  cluster = await startSlurm({ cpus: 4 });
  // Before the lab starts: its sbatch and scontrol reach this private cluster.
  Object.assign(process.env, cluster?.env);
  const home = tempDir('metalab-cluster-', 'file');
  gate = nodeGate(home);
  ({ lab, store } = testLab(home, 1, { slurmPollMs: 500 }));
  // The test node has no memory configured: a job asking for some would never start.
  const setup = [gate.setup];
  await lab.setClusterProfile(clusterProfile.parse({ memory: '', throttle: 2, timeLimit: '10', setup }));
  host = await startWebHost({ lab, rendererDir: rendererDir() });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await lab?.close();
  store?.close();
  await cluster?.stop();
}, 60_000);

async function setTheme(theme: 'light' | 'dark'): Promise<void> {
  const toggle = page.getByRole('button', { name: `switch to ${theme} theme` });
  if (await toggle.count()) await toggle.click();
}

const STEPS = 8000;
/** Two seeds of about ten seconds each, one after the other (the throttle the page saves is 1). */
const spec = tinySpec({
  name: 'slurm sweep',
  training: { steps: STEPS, batchSize: 16, learningRate: 0.01, checkpointEvery: 2000 },
  evaluation: { every: 2000, sequences: 32 },
  sweep: { axes: [{ path: 'seed', values: [1, 2] }] },
});

describe.skipIf(!available)('running experiments on a SLURM cluster from the page', () => {
  it('edits the cluster profile, starts a sweep on SLURM and follows its runs', async () => {
    await page.goto(host!.url);

    // The profile: a bad throttle is refused at its field, naming it; a good one is saved.
    await page.getByRole('link', { name: 'cluster', exact: true }).click();
    await page.waitForURL(/#\/cluster$/);
    const throttle = page.getByRole('textbox', { name: 'Throttle', exact: true });
    await expect.poll(() => throttle.inputValue()).toBe('2');
    expect(await page.getByRole('textbox', { name: 'Memory', exact: true }).inputValue()).toBe('');
    await throttle.fill('-1');
    await page.getByRole('button', { name: 'Save' }).click();
    const refusal = page.locator('#cluster-throttle-error');
    await expect.poll(() => refusal.textContent()).toMatch(/^\s*throttle: Too small: expected number to be >=0/);
    expect(await throttle.getAttribute('aria-invalid')).toBe('true');
    expect((await lab!.getClusterProfile()).throttle).toBe(2);
    await throttle.fill('1');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    expect(await refusal.count()).toBe(0);
    const saved = await lab!.getClusterProfile();
    expect(saved).toMatchObject({ throttle: 1, memory: '', timeLimit: '10', setup: [gate.setup] });
    expect(await page.getByTestId('cluster-summary').textContent()).toContain('1 at a time');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: screenshotPath('e2e', 'cluster-profile'), fullPage: true });
    await setTheme('dark');
    await page.screenshot({ path: screenshotPath('e2e', 'cluster-profile-dark'), fullPage: true });
    await setTheme('light');

    // The sweep, designed to run on the cluster: the spec says so, and the plan says it was measured here.
    await page.getByRole('link', { name: 'Design' }).click();
    await page.getByRole('tab', { name: 'JSON' }).click();
    await page.getByRole('textbox', { name: 'experiment spec (JSON)' }).fill(JSON.stringify(spec, null, 2));
    await page.getByRole('tab', { name: 'Form' }).click();
    expect(await page.getByRole('radio', { name: 'this machine' }).isChecked()).toBe(true);
    await page.getByRole('radio', { name: 'SLURM cluster' }).check();
    await expect.poll(() => page.getByTestId('spec-status').textContent()).toContain('valid · 2 runs');
    const summary = page.getByTestId('cluster-summary');
    await expect.poll(() => summary.textContent()).toContain('1 at a time');
    expect(await summary.textContent()).toContain("the partition's memory");
    await expect.poll(() => page.getByTestId('plan-measured-here').count(), { timeout: 30_000 }).toBe(1);
    expect(await page.getByTestId('plan-slots').textContent()).toContain('1 on SLURM');
    // The JSON tab's text (hidden behind the form, where the radios are).
    const json = async () => JSON.parse(await page.locator('#panel-json textarea').inputValue());
    expect((await json()).executor).toBe('slurm');
    // This machine leaves the field out, as specs were before.
    await page.getByRole('radio', { name: 'this machine' }).check();
    expect(await json()).not.toHaveProperty('executor');
    await page.getByRole('radio', { name: 'SLURM cluster' }).check();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: screenshotPath('e2e', 'cluster-design') });
    await expect.poll(() => page.getByRole('button', { name: 'Start' }).isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/runs$/);

    // The runs table: where each run trains and SLURM's word on it; the second waits for the first (throttle 1).
    const add = page.getByRole('combobox', { name: 'add a column' });
    await add.selectOption('run:executor');
    await add.selectOption('run:job');
    const row = (run: number) => page.locator(`tr[data-run-id="${run}"]`);
    const cell = (run: number, column: string) => row(run).locator(`td[data-column="${column}"]`);
    const state = (run: number) => row(run).getByTestId('slurm-state').textContent();
    // The lab's word first: a submission that failed says why here (the page shows no SLURM state for it). Run 1's
    // node waits at the gate, so this holds until the test opens it.
    const said = async () => {
      const run = (await lab!.listRuns()).find((r) => r.id === 1);
      return `${run?.status}: ${run?.slurm?.state ?? ''} ${run?.error ?? ''}`.trim();
    };
    await expect.poll(said, { timeout: 45_000 }).toMatch(/^running: RUNNING on \S+$/);
    await expect.poll(() => state(1), { timeout: 30_000 }).toMatch(/^RUNNING on \S+$/);
    await expect.poll(() => state(2)).toBe('PENDING (JobArrayTaskLimit)');
    expect(await cell(1, 'run:executor').textContent()).toContain('slurm');
    expect(await cell(2, 'run:job').textContent()).toMatch(/^\s*\d+_1\s*$/);
    const search = page.getByRole('searchbox', { name: 'filter runs' });
    await search.fill('executor = slurm and slurm ~ pending');
    await expect.poll(() => page.locator('tr[data-run-id]').count()).toBe(1);
    expect(await page.locator('tr[data-run-id="2"]').count()).toBe(1);
    await search.fill('');
    await page.screenshot({ path: screenshotPath('e2e', 'cluster-runs') });

    // The run's page: its job, SLURM's state and its steps, live.
    await page.getByRole('link', { name: 'r1', exact: true }).click();
    await page.waitForURL(/#\/runs\/1$/);
    expect(await page.getByTestId('slurm-job').textContent()).toMatch(/^\d+_0$/);
    await expect.poll(() => page.getByTestId('slurm-state').textContent()).toMatch(/RUNNING on \S+/);
    // Its node starts metalab now.
    gate.open();
    const step = async () => Number(/(\d+)\/8000 steps/.exec((await page.locator('h1 + p').textContent()) ?? '')?.[1]);
    const seen = new Set<number>();
    await expect.poll(async () => seen.add(await step()).size, { timeout: 30_000, interval: 200 }).toBeGreaterThan(3);
    // Pictured with two evaluations or more in: the context chart shows the newest evaluation the steps have passed.
    // Frames arrive in batches (one read per poll), so the step can pass more than one evaluation between reads.
    const latest = async () =>
      Number(/^(\d+) \(latest\)$/.exec((await page.getByTestId('context-step').textContent()) ?? '')?.[1]);
    const caughtUp = async () => (await latest()) === Math.floor((await step()) / 2000) * 2000;
    await expect.poll(async () => (await latest()) >= 4000, { timeout: 30_000 }).toBe(true);
    await expect.poll(caughtUp, { timeout: 10_000 }).toBe(true);
    // Still running, as a rule; on a fast machine the run may be ending by now.
    expect(await page.getByTestId('slurm-state').textContent()).toMatch(
      /(RUNNING|COMPLETING) on \S+|ended \(finished\)|COMPLETED/,
    );
    await page.screenshot({ path: screenshotPath('e2e', 'cluster') });
    await setTheme('dark');
    await page.screenshot({ path: screenshotPath('e2e', 'cluster-dark') });
    await setTheme('light');

    // Every run ends; the page follows: finished, with SLURM's last word on it (the worker's report comes first).
    const experimentId = (await lab!.listExperiments())[0].id;
    const runs = await finishedRuns(lab!, experimentId, 60_000);
    expect(runs.map((r) => [r.executor, r.step, r.slurm?.history])).toEqual([
      ['slurm', STEPS, []],
      ['slurm', STEPS, []],
    ]);
    await expect.poll(() => page.locator('h1 .status').textContent(), { timeout: 10_000 }).toBe('finished');
    expect(await page.getByTestId('slurm-job').textContent()).toBe(runs.find((r) => r.id === 1)?.slurm?.job);
    await expect.poll(() => page.getByTestId('slurm-state').textContent()).toMatch(/ended \(finished\)|COMPLETED/);
    expect(await page.getByTestId('slurm').textContent()).toContain('ended');
    // Rerun with changes keeps where the run trained.
    await page.getByRole('link', { name: 'Rerun with changes' }).click();
    await expect.poll(() => page.getByRole('radio', { name: 'SLURM cluster' }).isChecked()).toBe(true);
    await page.goBack();
    await page.getByRole('link', { name: '← Runs' }).click();
    await expect.poll(() => row(2).locator('.status').textContent()).toBe('finished');
    expect(await row(2).getByTestId('slurm-state').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
