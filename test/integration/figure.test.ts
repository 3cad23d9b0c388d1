// `metalab figure` as a user runs it: SVG figures of a small real sweep (one run left queued), read back
// as text and checked against what the store holds; bad requests end with one clear line and status 2.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../shared/api';
import { expandExperiment } from '../../shared/spec';
import { phaseText } from '../../shared/figures/data';
import { formatNumber } from '../../shared/figures/format';
import { metalab } from '../helpers/cli';
import { testLab } from '../helpers/lab';
import { tinySpec } from '../helpers/specs';

let home: string;
let runs: Run[];
/** The sweep (e1): two pool sizes x two batch sizes; the last run is left queued. Then an experiment never run (e2). */
beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'metalab-figure-'));
  const { lab, store } = testLab(home, 2);
  const sweep = expandExperiment(
    tinySpec({
      name: 'figure sweep',
      sweep: {
        axes: [
          { path: 'task.numTasks', values: [1, 4] },
          { path: 'training.batchSize', values: [8, 16] },
        ],
      },
    }),
  );
  if (!sweep.ok) throw new Error('the test spec is invalid');
  const { experimentId, runIds } = await lab.createExperiment(sweep.spec);
  await lab.idle();
  await lab.close();
  // The last run as it was before it started; and an experiment stored but never run.
  store.truncateAfter(runIds[3], 0);
  // Both are queued by this (live) process, so the CLI's lab leaves them queued.
  const unstarted = {
    step: 0,
    backend: null,
    examplesPerSec: null,
    startedAt: null,
    finishedAt: null,
    checkpointPath: null,
    checkpointStep: null,
  };
  store.setRunStatus(runIds[3], 'queued', { ...unstarted, ownerPid: process.pid });
  for (const id of store.createExperiment(sweep.spec, sweep.runs).runIds)
    store.updateRun(id, { ownerPid: process.pid });
  runs = store.listRuns({ experimentId }).reverse();
  store.close();
  expect(runs.map((r) => r.status)).toEqual(['finished', 'finished', 'finished', 'queued']);
}, 60_000);
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

interface SvgText {
  text: string;
  /** Where it is drawn: texts of one label share it. */
  at: string;
  y: number;
}

/** Checks the SVG is well formed (every element closed, in order) and returns its texts. */
function svgTexts(file: string): SvgText[] {
  const svg = fs.readFileSync(file, 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  const open: string[] = [];
  for (const [, close, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (close) expect(open.pop(), `</${name}>`).toBe(name);
    else open.push(name);
  }
  expect(open).toEqual([]);
  const decode = (s: string) =>
    s
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&');
  return [...svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)].map(([, attrs, text]) => ({
    text: decode(text),
    at: /transform="([^"]*)"/.exec(attrs)?.[1] ?? '',
    y: Number(/ y="([^"]*)"/.exec(attrs)?.[1] ?? 0),
  }));
}

/** Runs the figure command into a file in the home folder; returns its texts and the command's output. */
function figure(name: string, ...args: string[]) {
  const out = path.join(home, `${name}.svg`);
  const r = metalab(home, 'figure', ...args, '--out', out);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(`wrote ${out}\n`);
  return { texts: svgTexts(out).map((t) => t.text), labels: svgTexts(out), stderr: r.stderr };
}

const point = (numTasks: number, batchSize: number) =>
  runs.find((r) => r.sweepPoint['task.numTasks'] === numTasks && r.sweepPoint['training.batchSize'] === batchSize)!;
const short = (run: Run) => phaseText(run.summary!.phase!, run.summary!.phaseConfidence, true);

describe('metalab figure', () => {
  it('draws the phase heatmap: each cell the stored figure as the page rounds it, over its phase', () => {
    const { texts, labels, stderr } = figure(
      'heatmap',
      'heatmap',
      'e1',
      '--x',
      'training.batchSize',
      '--y',
      'task.numTasks',
      '--figure',
      'eval/unseen/last_mse',
    );
    expect(texts).toEqual(
      expect.arrayContaining([
        'unseen/last_mse',
        'e1 figure sweep',
        'task.numTasks',
        'training.batchSize',
        '1',
        '4',
        '8',
        '16',
        'queued',
      ]),
    );
    for (const run of runs.filter((r) => r.summary)) {
      // A cell's label: the value as the page rounds it, then the phase on the line below, drawn at one place.
      const values = labels.filter(
        (t) => t.text === formatNumber(run.summary!.figures['eval/unseen/last_mse']!, 3) && t.y < 0,
      );
      const phases = values.map((v) => labels.find((t) => t.at === v.at && t.y > 0)?.text);
      expect(phases, `r${run.id}`).toContain(short(run));
    }
    expect(stderr).toBe('note: 1 of 4 runs drawn have no eval/unseen/last_mse yet (1 queued)\n');
  });

  it('draws the phase plot, summary figures along an axis, a scatter of runs', () => {
    const plot = figure('phase-plot', 'phase-plot', 'e1', '--where', 'training.batchSize=8', '--title', 'Phases');
    expect(plot.texts).toEqual(
      expect.arrayContaining([
        'Phases',
        'e1 figure sweep · training.batchSize = 8',
        'seen',
        'unseen',
        'task.numTasks (log2)',
        'improvement',
      ]),
    );
    for (const run of [point(1, 8), point(4, 8)]) expect(plot.texts).toContain(short(run));
    expect(plot.stderr).toBe('');

    const vs = figure(
      'vs',
      'vs',
      'e1',
      '--x',
      'task.numTasks',
      '--figure',
      'final_loss',
      '--by',
      'training.batchSize',
      '--log-x',
      '--theme',
      'dark',
    );
    expect(vs.texts).toEqual(
      expect.arrayContaining([
        'final_loss vs numTasks',
        'batchSize = 8',
        'batchSize = 16',
        'final_loss',
        'task.numTasks (log2)',
      ]),
    );
    expect(vs.stderr).toBe('note: 1 of 4 runs drawn have no figures yet (1 queued)\n');

    const scatter = figure(
      'scatter',
      'scatter',
      'e1',
      '--x',
      'final_loss',
      '--y',
      'eval/seen/last_mse',
      '--color',
      'eval/unseen/improvement',
      '--width',
      '800',
      '--height',
      '500',
    );
    expect(scatter.texts).toEqual(
      expect.arrayContaining(['seen/last_mse vs final_loss', 'final_loss', 'eval/seen/last_mse']),
    );
    expect(scatter.texts.filter((t) => /^numTasks=\d, batchSize=\d+$/.test(t)).length).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(home, 'scatter.svg'), 'utf8')).toMatch(/^<svg width="800" height="500"/);
  });

  it('draws step curves per run and in-context learning curves with their baselines', () => {
    const lines = figure('lines', 'lines', 'e1', '--metric', 'loss', '--smooth', '0.5', '--log-y');
    expect(lines.texts).toEqual(
      expect.arrayContaining([
        'loss',
        'step',
        'numTasks=1, batchSize=8',
        'numTasks=4, batchSize=8',
        'numTasks=1, batchSize=16',
      ]),
    );
    expect(lines.stderr).toBe('note: 1 of 4 runs drawn have no loss yet (1 queued)\n');

    const run = point(4, 8);
    const context = figure('context', 'context', 'e1', '--split', 'unseen', '--runs', `r${run.id}`, '--baselines');
    expect(context.texts).toEqual(
      expect.arrayContaining([
        'In-context learning curve: unseen',
        `e1 figure sweep · r${run.id} · step 60`,
        'model',
        'ridge',
        'dMMSE',
        'MSE',
        'position',
      ]),
    );
  });

  it('refuses a bad request with one line naming what is wrong, status 2 and no file', () => {
    const out = path.join(home, 'bad.svg');
    const cases: [string[], RegExp][] = [
      [['heatmap', 'e9', '--out', out], /^error: experiment e9 does not exist$/m],
      [
        ['heatmap', 'e1', '--x', 'model.dModel', '--out', out],
        /--x model\.dModel: not a sweep axis of e1 \(its axes: task\.numTasks, training\.batchSize\)/,
      ],
      [
        ['heatmap', 'e1', '--where', 'task.numTasks=3', '--out', out],
        /--where task\.numTasks=3 matches no run of e1 \(task\.numTasks takes 1, 4\)/,
      ],
      [
        ['heatmap', 'e1', '--figure', 'eval/unseen/nope', '--out', out],
        /--figure eval\/unseen\/nope: no run of e1 has this figure \(its figures: .*final_loss/,
      ],
      [['heatmap', 'e2', '--out', out], /e2 has no finished runs to draw yet \(4 queued\)/],
      [
        ['lines', 'e1', '--metric', 'nope', '--out', out],
        /--metric nope: no run drawn has this metric \(metrics: .*loss/,
      ],
      [
        ['context', 'e1', '--split', 'nope', '--out', out],
        /--split nope: the runs drawn were evaluated on seen, unseen/,
      ],
      [
        ['context', 'e1', '--split', 'unseen', '--runs', 'r99', '--out', out],
        /--runs: run r99 is not among the runs of e1/,
      ],
      [['vs', 'e1', '--x', 'task.numTasks', '--out', out], /metalab figure vs needs --figure/],
      [['heatmap', 'e1', '--metric', 'loss', '--out', out], /--metric does not apply to metalab figure heatmap/],
      [['sideways', 'e1', '--out', out], /unknown figure 'sideways'/],
      [['heatmap', 'e1', '--frob', '--out', out], /metalab figure: Unknown option '--frob'$/m],
      [['heatmap', 'e1', '--out', path.join(home, 'f.png')], /--out names an \.svg file/],
      [['heatmap', 'e1', '--out', path.join(home, 'missing', 'f.svg')], /cannot write .*f\.svg \(ENOENT\)/],
    ];
    for (const [args, message] of cases) {
      const r = metalab(home, 'figure', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(/^error: /);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stdout).toBe('');
    }
    expect(fs.existsSync(out)).toBe(false);
  });
});
