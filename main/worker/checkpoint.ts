// Checkpoint files: a JSON manifest (step, Adam's t, tensor names and shapes, the blob's size and SHA-256) and
// one float32 blob. Written to temporary names and renamed, so a worker killed mid-write leaves the previous
// checkpoints whole; a failed write removes its temporary files. The newest two are kept, so a damaged newest
// one still leaves a previous one to resume from. Paths are stored relative to the data folder, so a moved
// folder still resumes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TrainState } from '../engine/train.js';

/** A checkpoint that cannot be written or read: the message names the file and what is wrong with it. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

interface Manifest {
  format: 2;
  step: number;
  adamT: number;
  tensors: { name: string; shape: number[]; length: number }[];
  /** Of the .bin file beside it. */
  bytes: number;
  /** Of the .bin file followed by `extra` as JSON (absent: the .bin file alone). */
  sha256: string;
  /** TrainState.extra (RL runs: environment and RNG states). */
  extra?: unknown;
}

const KEEP = 2;

const sha256 = (data: Buffer, extra: unknown) => {
  const hash = crypto.createHash('sha256').update(data);
  if (extra !== undefined) hash.update(JSON.stringify(extra));
  return hash.digest('hex');
};
const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** Writes the state as `step-N.json` + `step-N.bin` in `dir`; returns the manifest's path. */
export function saveCheckpoint(dir: string, state: Omit<TrainState, 'losses'>): string {
  const base = path.join(dir, `step-${state.step}`);
  const blob = Buffer.concat(
    state.tensors.map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength)),
  );
  const manifest: Manifest = {
    format: 2,
    step: state.step,
    adamT: state.adamT,
    tensors: state.tensors.map((t) => ({ name: t.name, shape: t.shape, length: t.values.length })),
    bytes: blob.length,
    sha256: sha256(blob, state.extra),
    ...(state.extra === undefined ? {} : { extra: state.extra }),
  };
  const temporary = [`${base}.bin.tmp`, `${base}.json.tmp`];
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(temporary[0], blob);
    fs.writeFileSync(temporary[1], JSON.stringify(manifest));
    fs.renameSync(temporary[0], `${base}.bin`);
    fs.renameSync(temporary[1], `${base}.json`);
  } catch (err) {
    for (const f of temporary) removeFile(f);
    throw new CheckpointError(`cannot write the checkpoint of step ${state.step} in ${dir} (${errorCode(err)})`);
  }
  const steps = checkpointSteps(dir);
  for (const old of steps.slice(KEEP)) {
    for (const ext of ['.json', '.bin']) fs.rmSync(path.join(dir, `step-${old}${ext}`), { force: true });
  }
  return `${base}.json`;
}

/** Removes a file if it is one; what is in the way otherwise stays, and the write's own error is the one reported. */
function removeFile(file: string): void {
  try {
    if (fs.statSync(file).isFile()) fs.rmSync(file);
  } catch {
    // nothing there
  }
}

/** Steps of the complete checkpoints in `dir`, newest first. */
export function checkpointSteps(dir: string): number[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const steps = files.flatMap((f) => {
    const m = /^step-(\d+)\.json$/.exec(f);
    return m && files.includes(`step-${m[1]}.bin`) ? [Number(m[1])] : [];
  });
  return steps.sort((a, b) => b - a);
}

/**
 * A checkpoint file's state, checked against its manifest (size and SHA-256) before it is used; the losses
 * before it come from the store (see TrainState). `shown` is how messages name the file (relative to the data
 * folder).
 */
export function loadCheckpoint(file: string, shown = file): Omit<TrainState, 'losses'> {
  const { manifest, blob } = readVerified(file, shown);
  const all = new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
  let offset = 0;
  const tensors = manifest.tensors.map((t) => {
    const values = all.slice(offset, offset + t.length);
    offset += t.length;
    return { name: t.name, shape: t.shape, values };
  });
  if (offset !== all.length) throw new CheckpointError(`checkpoint ${shown} does not match its manifest`);
  return { step: manifest.step, adamT: manifest.adamT, tensors, extra: manifest.extra };
}

/** Throws a CheckpointError naming the file unless the checkpoint is whole and matches its checksum. */
export function verifyCheckpoint(file: string, shown = file): void {
  readVerified(file, shown);
}

function readVerified(file: string, shown: string): { manifest: Manifest; blob: Buffer } {
  let manifest: Manifest;
  let blob: Buffer;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
    blob = fs.readFileSync(file.replace(/\.json$/, '.bin'));
  } catch (err) {
    const why = err instanceof SyntaxError ? 'its manifest is not valid JSON' : `cannot read it: ${errorCode(err)}`;
    throw new CheckpointError(`checkpoint ${shown} is damaged (${why})`);
  }
  // Format 1 (before checksums) is read as it is: there is nothing to check it against.
  if ((manifest.format as number) === 1) return { manifest, blob };
  if (manifest.format !== 2) throw new CheckpointError(`checkpoint ${shown} has an unknown format`);
  if (blob.length !== manifest.bytes) {
    throw new CheckpointError(
      `checkpoint ${shown} is damaged (${blob.length} bytes, its manifest says ${manifest.bytes})`,
    );
  }
  if (sha256(blob, manifest.extra) !== manifest.sha256)
    throw new CheckpointError(`checkpoint ${shown} is damaged (checksum mismatch)`);
  return { manifest, blob };
}
