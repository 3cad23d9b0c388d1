// How many evaluation sequences make a phase label stable (issue 16). Trains each run of a preset exactly as the lab
// does and, at every evaluation, scores a large evaluation (--sequences per split) sequence by sequence. Then, for
// each smaller size n:
// - `lab`: what the lab records with `evaluation.sequences: n`: the label of the first n of those sequences (the lab's
//   n sequences are exactly these: each is drawn in turn from the split's seeded stream) and its bootstrap confidence;
// - over --draws random sets of n of the sequences: how often the rule gives the large evaluation's label (`agree`),
//   and how often the label it gives is uncertain (confidence < PHASE_CONFIDENT).
// Usage (one run of a preset per invocation keeps each short):
//   METALAB_BENCH_ENTRY=bench/phaseStability.ts npm run bench -- --preset presets/gpicl-phase-transition.json \
//     --run 3 [--sequences 2048] [--sizes 32,64,128,256,512,1024] [--draws 40] [--out FILE]
// Appends one JSON line per evaluation to --out (default bench/results/phase-stability.jsonl) and prints it as a row.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PHASE_CONFIDENT, type Phase } from '../shared/results.js';
import { expandExperiment } from '../shared/spec.js';
import { predict } from '../main/engine/evaluate.js';
import { phaseWithConfidence, pickSequences, type PerSequence } from '../main/engine/objectives/bootstrap.js';
import { objectiveFor } from '../main/engine/objectives/index.js';
import { learningRateAt } from '../main/engine/optimizer.js';
import { Rng, seedFrom } from '../main/engine/rng.js';
import { setUpRun, trainBatch, trainStep, type SequenceRunSpec } from '../main/engine/train.js';

const { values: opts } = parseArgs({
  options: {
    preset: { type: 'string' },
    run: { type: 'string' },
    sequences: { type: 'string', default: '2048' },
    sizes: { type: 'string', default: '32,64,128,256,512,1024' },
    draws: { type: 'string', default: '40' },
    out: { type: 'string', default: path.join('bench', 'results', 'phase-stability.jsonl') },
  },
});
if (!opts.preset || !opts.run) throw new Error('--preset FILE and --run N (1-based, in sweep order) are required');
const expanded = expandExperiment(JSON.parse(fs.readFileSync(opts.preset, 'utf8')));
if (!expanded.ok) throw new Error(JSON.stringify(expanded.issues));
const { point, spec: runSpec } = expanded.runs[Number(opts.run) - 1];
const spec = runSpec as SequenceRunSpec;
const N = Number(opts.sequences);
const sizes = opts.sizes.split(',').map(Number);
const draws = Number(opts.draws);

const firstN = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const pick = (evidence: ReadonlyMap<string, PerSequence>, rows: (split: string) => Int32Array) =>
  new Map([...evidence].map(([split, e]) => [split, pickSequences(e, rows(split))]));

async function main(): Promise<void> {
  const { task, model, adam } = await setUpRun(spec, null);
  const objective = objectiveFor(task);
  const rule = (e: ReadonlyMap<string, PerSequence>) => objective.phase(e, task);
  // The lab's evaluation sets, N sequences each.
  const sets = [];
  for (const split of task.evalSplits) {
    const batch = await task.sample(new Rng(seedFrom(spec.seed, 'eval', split)), N, split);
    sets.push({ split, batch, baselines: task.baselines?.(batch, split) ?? [] });
  }
  const { training } = spec;
  for (let step = 0; step < training.steps; ) {
    const batch = await trainBatch(spec, task, step);
    await trainStep(model, task, adam, batch, learningRateAt(step, training), training.gradClip);
    step += 1;
    if (step % spec.evaluation.every === 0 || step === training.steps) {
      const evidence = new Map<string, PerSequence>();
      for (const { split, batch, baselines } of sets)
        evidence.set(split, objective.score(await predict(model, task, batch), batch, task, baselines).evidence);
      measure(step, evidence, rule);
    }
  }
}

function measure(
  step: number,
  evidence: ReadonlyMap<string, PerSequence>,
  rule: (e: ReadonlyMap<string, PerSequence>) => Phase,
): void {
  const seed = seedFrom(spec.seed, 'phase', step);
  const reference = phaseWithConfidence(evidence, rule, seed);
  const rng = new Rng(seedFrom('phase stability', spec.seed, step));
  const bySize = sizes.map((n) => {
    const lab = phaseWithConfidence(
      pick(evidence, () => firstN(n)),
      rule,
      seed,
    );
    let agree = 0;
    let uncertain = 0;
    for (let d = 0; d < draws; d++) {
      // n of the N sequences, without repeats (a partial Fisher-Yates shuffle), per split.
      const subset = () => {
        const order = firstN(N);
        for (let i = 0; i < n; i++) {
          const j = i + rng.int(N - i);
          [order[i], order[j]] = [order[j], order[i]];
        }
        return order.subarray(0, n);
      };
      const drawn = phaseWithConfidence(pick(evidence, subset), rule, seed);
      if (drawn.phase === reference.phase) agree++;
      if (drawn.confidence < PHASE_CONFIDENT) uncertain++;
    }
    return { n, lab, agree: agree / draws, uncertain: uncertain / draws };
  });
  const row = { preset: path.basename(opts.preset!), run: Number(opts.run), point, step, N, reference, bySize };
  fs.appendFileSync(opts.out!, `${JSON.stringify(row)}\n`);
  const short = (p: Phase, c: number) => `${p.split(' ')[0]} ${c.toFixed(2)}`;
  process.stdout.write(
    `${JSON.stringify(point)} step ${step}: ${short(reference.phase, reference.confidence)} | ${bySize
      .map((s) => `${s.n}: ${short(s.lab.phase, s.lab.confidence)} agree ${s.agree} uncertain ${s.uncertain}`)
      .join(' | ')}\n`,
  );
}

void main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
