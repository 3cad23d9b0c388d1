// `npm run bench` at its tiny setting: both sides (tfjs-wasm and the PyTorch peer) train every reference
// configuration from the same weights on the same batches, and the table and JSON report all of them. Skipped,
// saying so, where Debian's python3 has no torch. And `npm run bench -- --store --tiny`: every row of the store
// benchmark, its levels answering as the raw points do. And `npm run bench -- --es --tiny`: a few ES generations of
// every case on both sides (ours and the NumPy peer; skipped, saying so, where Debian's python3 has no numpy).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../main/services/paths';
import { pythonWith } from '../helpers/system';
import { tempDir } from '../helpers/tmp';

interface BenchJson {
  tiny: boolean;
  lossRelTolerance: number;
  machine: { torch: string; blas: string[]; wasmPeakGflops: number; torchPeakGflops: number };
  configs: {
    key: string;
    oursMs: number;
    torchMs: number;
    ratio: number;
    lossesOurs: number[];
    lossesTorch: number[];
    maxLossRelDiff: number;
    lossesAgree: boolean;
  }[];
  sweeps: { concurrency: number; runs: number; stepsPerSec: number; workerPeakMiB: number[] }[];
}

const what = 'benchmark against PyTorch (tiny)';
const python = pythonWith('torch', what);

describe.skipIf(!python)(what, () => {
  it('runs both sides on every reference configuration, and their losses agree', () => {
    const out = path.join(tempDir(), 'bench.json');
    const args = ['bench/run.mjs', '--tiny', '--no-curve', '--python', python!, '--out', out];
    const r = spawnSync(process.execPath, args, { cwd: appRoot(), encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);

    const keys = ['transformer', 'lstm', 'lstm-preset', 'vsml', 'regression'];
    for (const key of keys) expect(r.stdout).toMatch(new RegExp(`^\\| ${key}\\s+\\|.*\\| yes \\(`, 'm'));
    expect(r.stdout).toMatch(/fp32 matMul peak: tfjs-wasm [\d.]+ GFLOP\/s, PyTorch [\d.]+ GFLOP\/s/);

    const json = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchJson;
    expect(json.tiny).toBe(true);
    expect(json.configs.map((c) => c.key)).toEqual(keys);
    for (const c of json.configs) {
      expect(c.lossesOurs.length, c.key).toBeGreaterThanOrEqual(2);
      expect(c.lossesTorch).toHaveLength(c.lossesOurs.length);
      for (const [k, l] of c.lossesOurs.entries()) {
        expect(Math.abs(l - c.lossesTorch[k]), `${c.key} step ${k}`).toBeLessThanOrEqual(
          json.lossRelTolerance * Math.abs(c.lossesTorch[k]),
        );
      }
      expect(c.lossesAgree).toBe(true);
      expect(c.oursMs).toBeGreaterThan(0);
      expect(c.torchMs).toBeGreaterThan(0);
      expect(Number.isFinite(c.ratio)).toBe(true);
    }
    expect(json.machine.wasmPeakGflops).toBeGreaterThan(0);
    expect(json.machine.torchPeakGflops).toBeGreaterThan(0);
    // Sweeps through the real CLI, scheduler and worker processes, one and two at a time.
    expect(json.sweeps.map((s) => s.concurrency)).toEqual([1, 2]);
    for (const s of json.sweeps) {
      expect(s.stepsPerSec).toBeGreaterThan(0);
      expect(s.workerPeakMiB.length).toBeGreaterThanOrEqual(1);
    }
  }, 120_000);
});

interface StoreBenchJson {
  tiny: boolean;
  builds: Record<'main' | 'long', { points: number; rowsPerSec: number; fileBytes: number; levelsBytes: number }>;
  rows: {
    id: string;
    before: { calls: number; p50: number } | null;
    after: { calls: number; p50: number };
    identical: boolean | null;
  }[];
}

describe('store benchmark (tiny)', () => {
  it('times every read of its table, the levels answering as the raw points do, and removes its databases', () => {
    const dir = tempDir();
    const args = ['bench/run.mjs', '--store', '--tiny', '--out', path.join(dir, 'bench.json')];
    const r = spawnSync(process.execPath, args, { cwd: appRoot(), encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/^\| getSeries 4 runs x 3 keys at 1000 points +\|/m);
    expect(fs.existsSync(/store bench in (.+)/.exec(r.stderr)![1])).toBe(false);

    const json = JSON.parse(fs.readFileSync(path.join(dir, 'store.json'), 'utf8')) as StoreBenchJson;
    expect(json.tiny).toBe(true);
    expect(json.rows.map((row) => row.id)).toEqual([
      'series-1x1',
      'series-10x3',
      'ws-series-10x3',
      'busy-series-10x3',
      'compare-20',
      'series-64',
      'runs-list',
      'ws-runs',
      'ws-runs-during-series',
      'long-series-1x1',
      'long-series-10x3',
      'long-series-64',
    ]);
    for (const row of json.rows) {
      expect(row.after.calls, row.id).toBeGreaterThanOrEqual(3);
      expect(row.after.p50, row.id).toBeGreaterThan(0);
      if (row.before) expect(row.before.p50, row.id).toBeGreaterThan(0);
      // Every getSeries row (and Compare's) compared the levels' answer with the raw points'.
      if (/series-|compare/.test(row.id) && row.id !== 'ws-runs-during-series')
        expect(row.identical, row.id).toBe(true);
    }
    for (const b of Object.values(json.builds)) {
      expect(b.points).toBeGreaterThan(0);
      expect(b.rowsPerSec).toBeGreaterThan(0);
      expect(b.levelsBytes).toBeGreaterThan(0);
      expect(b.levelsBytes).toBeLessThan(b.fileBytes);
    }
  }, 120_000);
});

interface EsBenchJson {
  tiny: boolean;
  machine: { numpy: string; backend: string };
  results: {
    key: string;
    population: number;
    generations: number;
    oursS: number;
    numpyS: number;
    oursGenPerS: number;
    ratio: number;
    oursReward: number;
    numpyReward: number;
  }[];
}

const esWhat = 'ES benchmark against NumPy (tiny)';
const esPython = pythonWith('numpy', esWhat);

describe.skipIf(!esPython)(esWhat, () => {
  it('times generations of every case on both sides, from the presets, and writes es.json', () => {
    const dir = tempDir();
    const args = ['bench/run.mjs', '--es', '--tiny', '--python', esPython!, '--out', path.join(dir, 'bench.json')];
    const r = spawnSync(process.execPath, args, { cwd: appRoot(), encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    for (const title of ['SymLA, one layer', 'SymLA, hidden \\[2\\]', 'LSTM 32'])
      expect(r.stdout).toMatch(new RegExp(`^\\| ${title}.*\\|\\s+[\\d.]+x \\|`, 'm'));

    const json = JSON.parse(fs.readFileSync(path.join(dir, 'es.json'), 'utf8')) as EsBenchJson;
    expect(json.tiny).toBe(true);
    expect(json.machine.backend).toBe('wasm');
    expect(json.results.map((c) => c.key)).toEqual(['symla', 'symla-hidden', 'lstm']);
    for (const c of json.results) {
      expect(c.population, c.key).toBe(4);
      expect(c.generations, c.key).toBeGreaterThanOrEqual(2);
      expect(c.oursS, c.key).toBeGreaterThan(0);
      expect(c.numpyS, c.key).toBeGreaterThan(0);
      expect(c.oursGenPerS, c.key).toBeCloseTo(1 / c.oursS);
      expect(Number.isFinite(c.ratio), c.key).toBe(true);
      // Mean payouts per pull of Bernoulli bandits: in [0, 1] on both sides.
      for (const reward of [c.oursReward, c.numpyReward]) {
        expect(reward, c.key).toBeGreaterThanOrEqual(0);
        expect(reward, c.key).toBeLessThanOrEqual(1);
      }
    }
  }, 120_000);
});
