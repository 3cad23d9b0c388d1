// Checkpoint files: a manifest with each blob's size and checksum, checked before a resume; the newest two kept;
// a failed write leaves no temporary file.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  checkpointSteps,
  loadCheckpoint,
  saveCheckpoint,
  verifyCheckpoint,
} from '../../main/worker/checkpoint';
import { tempDir } from '../helpers/tmp';

const state = (step: number) => ({
  step,
  adamT: step,
  tensors: [
    { name: 'param/w', shape: [64, 32], values: Float32Array.from({ length: 2048 }, (_, i) => Math.sin(i + step)) },
    { name: 'param/b', shape: [32], values: new Float32Array(32).fill(step) },
  ],
});

describe('checkpoint files', () => {
  it('round-trips a state and keeps the newest two checkpoints', () => {
    const dir = tempDir();
    for (const step of [100, 200, 300]) saveCheckpoint(dir, state(step));
    expect(checkpointSteps(dir)).toEqual([300, 200]);
    expect(fs.readdirSync(dir).sort()).toEqual(['step-200.bin', 'step-200.json', 'step-300.bin', 'step-300.json']);
    const back = loadCheckpoint(path.join(dir, 'step-300.json'));
    expect(back.step).toBe(300);
    expect(back.tensors.map((t) => [t.name, t.shape, Array.from(t.values)])).toEqual(
      state(300).tensors.map((t) => [t.name, t.shape, Array.from(t.values)]),
    );
  });

  it("keeps a run's extra state (environments, RNG) and checks it with the tensors", () => {
    const dir = tempDir();
    const extra = { envs: [{ state: [0.01, -0.02, 0.03, 0.04], steps: 17 }], rng: [1, 2, 3, 4] };
    const file = saveCheckpoint(dir, { ...state(100), extra });
    expect(loadCheckpoint(file).extra).toEqual(extra);
    expect(loadCheckpoint(saveCheckpoint(dir, state(200))).extra).toBeUndefined();
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
    manifest.extra.envs[0].steps = 18;
    fs.writeFileSync(file, JSON.stringify(manifest));
    expect(() => loadCheckpoint(file)).toThrow(/checksum mismatch/);
  });

  it('refuses a damaged checkpoint with an error naming the file and what is wrong', () => {
    const dir = tempDir();
    const file = saveCheckpoint(dir, state(100));
    const bin = file.replace(/\.json$/, '.bin');
    const bytes = fs.readFileSync(bin);

    // Altered at the same size: 4 KiB zeroed.
    fs.writeFileSync(bin, Buffer.concat([Buffer.alloc(4096), bytes.subarray(4096)]));
    expect(() => loadCheckpoint(file, 'checkpoints/run-1/step-100.json')).toThrow(
      new CheckpointError('checkpoint checkpoints/run-1/step-100.json is damaged (checksum mismatch)'),
    );
    // Truncated.
    fs.writeFileSync(bin, bytes.subarray(0, 1000));
    expect(() => verifyCheckpoint(file)).toThrow(`is damaged (1000 bytes, its manifest says ${bytes.length})`);
    // Missing.
    fs.rmSync(bin);
    expect(() => verifyCheckpoint(file)).toThrow(/is damaged \(cannot read it: ENOENT\)/);
    // A manifest that is not JSON.
    fs.writeFileSync(bin, bytes);
    fs.writeFileSync(file, '{"format": 2, "st');
    expect(() => verifyCheckpoint(file)).toThrow(/is damaged \(its manifest is not valid JSON\)/);
  });

  it('says why a checkpoint cannot be written and leaves no temporary file', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'step-100.json.tmp')); // a folder where the manifest's temporary file goes
    expect(() => saveCheckpoint(dir, state(100))).toThrow(
      new CheckpointError(`cannot write the checkpoint of step 100 in ${dir} (EISDIR)`),
    );
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp') && f !== 'step-100.json.tmp')).toEqual([]);
    expect(checkpointSteps(dir)).toEqual([]);
  });
});
