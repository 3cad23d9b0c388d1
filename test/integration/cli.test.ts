// The `metalab` command as a user runs it: a real process, a real database in a temporary METALAB_HOME.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../main/services/paths';
import { metalab } from '../helpers/cli';
import { fashionMnistIdx } from '../helpers/idx';
import { tempDir } from '../helpers/tmp';

describe('metalab CLI', () => {
  it('runs an example spec, stores it, and lists, shows and exports it', () => {
    const home = tempDir();
    const run = metalab(home, 'run', 'examples/tiny-regression.json', '--backend', 'wasm');
    expect(run.stderr).toMatch(/experiment e1: 1 run \(r1\)/);
    expect(run.stderr).toMatch(/100\.0%\s+runs 1\/1/);
    expect(run.stdout).toMatch(/r1\s+finished\s+-\s+300\/300/);
    expect(run.code).toBe(0);

    expect(metalab(home, 'runs').stdout).toMatch(/r1\s+e1 tiny regression\s+finished\s+300\/300/);
    // When it was created and started, and how long it ran (a finished run: a fixed duration).
    expect(metalab(home, 'runs').stdout).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d+:\d\d/);
    const show = metalab(home, 'show', 'r1');
    expect(show.stdout).toMatch(/status\s+finished/);
    expect(show.stdout).toMatch(/loss\s+300\s/);

    const csv = metalab(home, 'export', '1', '--format', 'csv').stdout.trim().split('\n');
    expect(csv[0]).toBe('run_id,experiment_id,key,step,value');
    const db = new Database(path.join(home, 'metalab.db'), { readonly: true });
    const stored = db.prepare('SELECT key, step, value FROM metrics WHERE run_id = 1 ORDER BY key, step').all() as {
      key: string;
      step: number;
      value: number;
    }[];
    db.close();
    expect(csv.length - 1).toBe(stored.length);
    const loss300 = csv.find((l) => l.startsWith('1,1,loss,300,'))!;
    expect(Number(loss300.split(',')[4])).toBe(stored.find((m) => m.key === 'loss' && m.step === 300)!.value);

    const jsonText = metalab(home, 'export', 'e1', '--format', 'json').stdout;
    // Through a pipe whose reader is slow (the pipe fills at 64 KiB): every byte arrives all the same.
    const piped = spawnSync('sh', ['-c', 'node bin/metalab.cjs export e1 --format json | (sleep 0.5; wc -c)'], {
      cwd: appRoot(),
      env: { ...process.env, METALAB_HOME: home },
      encoding: 'utf8',
    });
    expect(Buffer.byteLength(jsonText)).toBeGreaterThan(65536);
    expect(Number(piped.stdout.trim())).toBe(Buffer.byteLength(jsonText));
    const json = JSON.parse(jsonText) as {
      runs: { id: number; metrics: Record<string, unknown[]>; evalCurves: { step: number; metric: string }[] }[];
    };
    expect(json.runs[0].metrics.loss).toHaveLength(300);
    // tiny-regression evaluates 3 times on 2 splits; ridge and dMMSE baselines are stored once per split.
    expect(json.runs[0].evalCurves.filter((c) => c.metric === 'mse')).toHaveLength(6);
    expect(json.runs[0].evalCurves.filter((c) => c.metric !== 'mse')).toHaveLength(4);
  });

  it('imports IDX files as a dataset that specs can then train and evaluate on', () => {
    const home = tempDir();
    const { files } = fashionMnistIdx();
    const truncated = path.join(home, 'short-labels.gz');
    const labels = fs.readFileSync(files.testLabels);
    fs.writeFileSync(truncated, labels.subarray(0, labels.length >> 1));
    const bad = metalab(home, 'import', 'fashion', '--train-images', files.testImages, '--train-labels', truncated);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('short-labels.gz');
    expect(bad.stderr).toContain('nothing was imported');
    expect(fs.existsSync(path.join(home, 'datasets', 'fashion'))).toBe(false);

    const ok = metalab(
      home,
      'import',
      'fashion',
      '--train-images',
      files.testImages,
      '--train-labels',
      files.testLabels,
    );
    expect(ok.stderr).toBe('');
    const imported = new RegExp(
      String.raw`imported 'fashion': \d+ training and \d+ test \(held out: the last 1/6 of each class\) ` +
        'images of 28x28, 10 classes',
    );
    expect(ok.stdout).toMatch(imported);

    const spec = path.join(home, 'on-fashion.json');
    fs.writeFileSync(
      spec,
      JSON.stringify({
        name: 'on fashion',
        task: {
          family: 'gpicl-classification',
          dataset: 'fashion',
          classes: 3,
          inputDim: 8,
          seqLen: 6,
          numTasks: 4,
          evalDatasets: ['mnist'],
        },
        model: { kind: 'mlp', hidden: [16] },
        training: { steps: 20, batchSize: 8, checkpointEvery: 20 },
        evaluation: { every: 20, sequences: 16 },
      }),
    );
    const run = metalab(home, 'run', spec);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/r1\s+finished/);
    expect(metalab(home, 'show', 'r1').stdout).toMatch(/eval\/unseen-mnist\/last_acc\s+20\s/);
  });

  it("keeps a spec's tags, and refuses a spec that names a dataset this lab lacks before storing anything", () => {
    const home = tempDir();
    const example = JSON.parse(
      fs.readFileSync(path.join(appRoot(), 'examples', 'tiny-regression.json'), 'utf8'),
    ) as object;
    const tagged = path.join(home, 'tagged.json');
    // Saved by an editor that writes a byte order mark: still JSON.
    fs.writeFileSync(
      tagged,
      `\uFEFF${JSON.stringify({ ...example, tags: ['paper', 'tiny'], training: { steps: 20, checkpointEvery: 20 } })}`,
    );
    expect(metalab(home, 'run', tagged, '--backend', 'wasm').code).toBe(0);
    const file = path.join(home, 'unknown-dataset.json');
    fs.writeFileSync(
      file,
      JSON.stringify(
        {
          name: 'unknown dataset',
          tags: ['paper', 'check'],
          task: { family: 'gpicl-classification', dataset: 'no-such-dataset', classes: 3, inputDim: 8, seqLen: 6 },
          model: { kind: 'mlp' },
        },
        null,
        2,
      ),
    );
    const refused = metalab(home, 'run', file);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${file}:9:5: task.dataset: unknown dataset 'no-such-dataset'`);
    expect(refused.stderr).toContain('nothing was run or stored');
    const db = new Database(path.join(home, 'metalab.db'), { readonly: true });
    const experiments = db.prepare('SELECT name, tags FROM experiments').all() as { name: string; tags: string }[];
    db.close();
    expect(experiments).toEqual([{ name: 'tiny regression', tags: JSON.stringify(['paper', 'tiny']) }]);
  });

  it('rejects an invalid spec naming the field and its line, and writes nothing', () => {
    const home = tempDir();
    const file = path.join(home, 'bad.json');
    fs.writeFileSync(
      file,
      JSON.stringify(
        { name: 'bad', task: { family: 'linear-regression', dim: 4 }, model: { kind: 'mlp' }, training: { steps: 0 } },
        null,
        2,
      ),
    );
    const r = metalab(home, 'run', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:11:5: training.steps: Too small`);
    expect(r.stderr).toContain('nothing was run or stored');
    expect(fs.existsSync(path.join(home, 'metalab.db'))).toBe(false);
    // With a byte order mark, lines and columns are those an editor shows.
    fs.writeFileSync(file, `\uFEFF${fs.readFileSync(file, 'utf8')}`);
    expect(metalab(home, 'run', file).stderr).toContain(`${file}:11:5: training.steps: Too small`);

    fs.writeFileSync(file, '{\n  "name": "x",\n  "seed": 1,,\n}');
    const syntax = metalab(home, 'run', file);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(new RegExp(`${file}:3:\\d+: invalid JSON`));

    const missing = metalab(home, 'run', path.join(home, 'nope.json'));
    expect(missing.stderr).toMatch(/nope\.json: cannot read the file \(ENOENT\)/);
    const backends = 'expected one of auto, tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu';
    const gpu = metalab(home, 'run', 'examples/tiny-regression.json', '--backend', 'gpu');
    expect(gpu.code).toBe(2);
    expect(gpu.stderr).toBe(`error: --backend gpu: ${backends}\nnothing was run or stored.\n`);
    // Checked before the file is read.
    expect(metalab(home, 'run', path.join(home, 'nope.json'), '--backend', 'quantum').stderr).toContain(
      `error: --backend quantum: ${backends}`,
    );
    expect(fs.existsSync(path.join(home, 'metalab.db'))).toBe(false);
    expect(metalab(home, 'show', 'r9').stderr).toMatch(/run r9 does not exist/);
    expect(metalab(home, 'frobnicate').code).toBe(2);
  });
});
