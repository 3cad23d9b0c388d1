// Checkpoint files: a JSON header (step, Adam's t, tensor names and shapes) and one float32 blob.
// Written to temporary names and renamed, so a worker killed mid-write leaves the previous checkpoint whole.
import fs from 'node:fs';
import path from 'node:path';
import type { TrainState } from '../engine/train.js';

interface Header {
  format: 1;
  step: number;
  adamT: number;
  tensors: { name: string; shape: number[]; length: number }[];
}

export function saveCheckpoint(dir: string, state: Omit<TrainState, 'losses'>): string {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `step-${state.step}`);
  const header: Header = {
    format: 1,
    step: state.step,
    adamT: state.adamT,
    tensors: state.tensors.map((t) => ({ name: t.name, shape: t.shape, length: t.values.length })),
  };
  const blob = Buffer.concat(
    state.tensors.map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength)),
  );
  fs.writeFileSync(`${base}.bin.tmp`, blob);
  fs.writeFileSync(`${base}.json.tmp`, JSON.stringify(header));
  fs.renameSync(`${base}.bin.tmp`, `${base}.bin`);
  fs.renameSync(`${base}.json.tmp`, `${base}.json`);
  // Only the newest checkpoint is kept.
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith('step-') && !f.startsWith(`step-${state.step}.`)) fs.rmSync(path.join(dir, f), { force: true });
  }
  return `${base}.json`;
}

/** A checkpoint file's state; the losses before it come from the store (see TrainState). */
export function loadCheckpoint(file: string): Omit<TrainState, 'losses'> {
  const header = JSON.parse(fs.readFileSync(file, 'utf8')) as Header;
  if (header.format !== 1) throw new Error(`checkpoint ${file} has unknown format ${String(header.format)}`);
  const blob = fs.readFileSync(file.replace(/\.json$/, '.bin'));
  const all = new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
  let offset = 0;
  const tensors = header.tensors.map((t) => {
    const values = all.slice(offset, offset + t.length);
    offset += t.length;
    return { name: t.name, shape: t.shape, values };
  });
  if (offset !== all.length) throw new Error(`checkpoint ${file} is truncated or corrupt`);
  return { step: header.step, adamT: header.adamT, tensors };
}
