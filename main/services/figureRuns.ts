// The runs a figure draws: an experiment (or several) from the store, narrowed by `--where` to some values
// of its sweep axes and by `--runs` to some runs, with errors that name what the store does not hold.
import type { Experiment, LabApi, Run } from '../../shared/api.js';
import type { SweepPoint } from '../../shared/spec.js';
import { formatSweepValue } from '../../shared/figures/data.js';
import { heldPoint } from '../../shared/figures/phases.js';
import { axisValues, type SweepValue } from '../../shared/figures/sweep.js';
import { formatPoint } from '../../shared/figures/format.js';
import { SEED_AXIS, seedsText, statusCounts } from '../../shared/figures/seeds.js';

/** A request the store cannot draw: an unknown experiment, run, axis or figure, or nothing to draw yet. */
export class FigureError extends Error {
  override name = 'FigureError';
}

export interface Selection {
  experiment: Experiment;
  /** The experiment's sweep axes. */
  paths: string[];
  /** Its runs, ascending, narrowed by `where`. */
  runs: Run[];
  /** The axis values `--where` fixed. */
  where: SweepPoint;
  /** Whether the runs' seeds are averaged (the experiment is swept over seeds, no seed fixed, no --single-runs). */
  seeds: boolean;
}

const list = (items: readonly unknown[]) => items.map(String).join(', ') || 'none';

/** What figures read of the lab. */
export type LabReader = Pick<LabApi, 'getExperiment' | 'listRuns' | 'listMetricKeys' | 'getSeries' | 'getEvalCurves'>;

/**
 * An experiment (`e3` or `3`) and its runs where the axes in `where` (`path` → value as typed) have those values;
 * their seeds averaged unless `singleRuns`.
 */
export async function selectRuns(
  lab: LabReader,
  ref: string,
  where: Readonly<Record<string, string>> = {},
  singleRuns = false,
): Promise<Selection> {
  const match = /^e?(\d+)$/i.exec(ref.trim());
  if (!match) throw new FigureError(`'${ref}' is not an experiment id (e3)`);
  const experiment = await lab.getExperiment(Number(match[1])).catch((err: Error) => {
    throw new FigureError(err.message);
  });
  const all = (await lab.listRuns({ experimentId: experiment.id })).reverse();
  const paths = experiment.spec.sweep?.axes.map((a) => a.path) ?? [];
  const fixed: SweepPoint = {};
  for (const [path, text] of Object.entries(where)) {
    const values = axisValues(all, requireAxis(experiment, paths, path, '--where'));
    const value = values.find((v) => String(v) === text || (typeof v === 'number' && Number(text) === v));
    if (value === undefined)
      throw new FigureError(
        `--where ${path}=${text} matches no run of e${experiment.id} (${path} takes ${list(values)})`,
      );
    fixed[path] = value;
  }
  const runs = all.filter((r) => Object.entries(fixed).every(([p, v]) => r.sweepPoint[p] === v));
  if (!runs.length) throw new FigureError(`e${experiment.id} has no runs`);
  const seeds = !singleRuns && paths.includes(SEED_AXIS) && !(SEED_AXIS in fixed);
  return { experiment, paths, runs, where: fixed, seeds };
}

/** The axes a figure can draw or hold: all but the seed axis while seeds are averaged. */
export function drawable(selection: Selection): string[] {
  return selection.paths.filter((p) => !selection.seeds || p !== SEED_AXIS);
}

/** `path` where a figure can draw it along an axis (see drawable), else an error saying why not. */
export function requireDrawable(selection: Selection, path: string, flag: string): string {
  if (selection.seeds && path === SEED_AXIS)
    throw new FigureError(`${flag} ${path}: the seeds are averaged (mean ± s.e.); --single-runs draws each run`);
  return requireAxis(selection.experiment, selection.paths, path, flag);
}

/** `path` where it is one of the experiment's sweep axes. */
export function requireAxis(experiment: Experiment, paths: readonly string[], path: string, flag: string): string {
  if (!paths.includes(path))
    throw new FigureError(`${flag} ${path}: not a sweep axis of e${experiment.id} (its axes: ${list(paths)})`);
  return path;
}

/** The runs named by `--runs` (`r1,r2` or `1,2`), each a run of the selection; all of them when none are named. */
export function pickRuns(selection: Selection, refs: readonly string[]): Run[] {
  if (!refs.length) return selection.runs;
  return refs.map((ref) => {
    const match = /^r?(\d+)$/i.exec(ref.trim());
    if (!match) throw new FigureError(`--runs: '${ref}' is not a run id (r12 or 12)`);
    const run = selection.runs.find((r) => r.id === Number(match[1]));
    if (!run)
      throw new FigureError(`--runs: run r${match[1]} is not among the runs of e${selection.experiment.id} drawn`);
    return run;
  });
}

/**
 * Holds the axes a figure does not draw (and `--where` did not fix) at their largest value, as the page
 * does; says so in `notes` with how to pick another.
 */
export function holdOthers(selection: Selection, drawn: readonly string[], notes: string[]): SweepPoint {
  const others = drawable(selection).filter((p) => !drawn.includes(p) && !(p in selection.where));
  const held = heldPoint(selection.runs, others);
  for (const [path, value] of Object.entries(held))
    notes.push(`holding ${path} at ${value} (another value: --where ${path}=V)`);
  return { ...selection.where, ...held };
}

/** The numeric summary figures any of the runs has, sorted. */
export function numericFigures(runs: readonly Run[]): string[] {
  const numeric = (r: Run) => Object.entries(r.summary?.figures ?? {}).flatMap(([k, v]) => (v === null ? [] : [k]));
  return [...new Set(runs.flatMap(numeric))].sort();
}

/** `figure` where some run has it as a number; otherwise an error naming the figures there are. */
export function requireFigure(selection: Selection, runs: readonly Run[], figure: string, flag: string): string {
  const figures = numericFigures(runs);
  if (figures.includes(figure)) return figure;
  const id = `e${selection.experiment.id}`;
  if (!runs.some((r) => r.summary))
    throw new FigureError(`${id} has no finished runs to draw yet (${statusCounts(runs)})`);
  if (runs.some((r) => r.summary && figure in r.summary.figures))
    throw new FigureError(`${flag} ${figure}: not measured in the runs of ${id}`);
  throw new FigureError(`${flag} ${figure}: no run of ${id} has this figure (its figures: ${list(figures)})`);
}

/** A note for the runs a figure draws that have nothing to show yet, if any. */
export function noteMissing(
  runs: readonly (Run | undefined)[],
  has: (run: Run) => boolean,
  what: string,
  notes: string[],
): void {
  const present = runs.filter((r): r is Run => r !== undefined);
  const missing = present.filter((r) => !has(r));
  if (missing.length)
    notes.push(`${missing.length} of ${present.length} runs drawn have no ${what} yet (${statusCounts(missing)})`);
}

/**
 * A run's name in a legend: its values of the axes that differ among `runs` (in the sweep's order; the seed left
 * out while seeds are averaged, so this names the run's seeds), else its id (its experiment's, for its seeds).
 */
export function runLabel(selection: Selection, run: Run, runs: readonly Run[]): string {
  const varying = drawable(selection).filter((p) => runs.some((r) => r.sweepPoint[p] !== run.sweepPoint[p]));
  if (varying.length) return formatPoint(Object.fromEntries(varying.map((p) => [p, run.sweepPoint[p]])));
  return selection.seeds ? `e${run.experimentId}` : `r${run.id}`;
}

/** What a figure shows, under its title: the experiment, the axis values it holds, whether it averages seeds. */
export function subtitle(selection: Selection, held: SweepPoint): string {
  const point = Object.entries(held).map(([p, v]: [string, SweepValue]) => `${p} = ${formatSweepValue(v)}`);
  const seeds = selection.seeds ? [seedsText(axisValues(selection.runs, SEED_AXIS).length)] : [];
  return [`e${selection.experiment.id} ${selection.experiment.name}`, ...point, ...seeds].join(' · ');
}
