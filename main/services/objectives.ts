// A learned objective's identity and encodings, the same for one a run stored and one read from a file: its sha256
// covers a canonical form of the architecture and of every tensor (name, shape, float32 bytes) in name order, so
// an objective keeps, in any lab, the identity specs refer to it by.
import { objectiveLayout } from '../engine/rl/metagenrl/layout.js';
import { createHash } from 'node:crypto';
import { LabError, type Run } from '../../shared/api.js';
import {
  OBJECTIVE_FILE_FORMAT,
  objectiveFile,
  type ObjectiveFile,
  type ObjectiveLineage,
  type StoredObjective,
} from '../../shared/learnedObjective.js';
import { formatPath, type LearnedObjectiveSpec } from '../../shared/spec.js';
import type { LearnedObjectiveWeights, ObjectiveProgress } from '../engine/train.js';

type WeightTensor = LearnedObjectiveWeights['tensors'][number];
/** Where each tensor lies in the stored weights: names and shapes, in name order. */
export type TensorLayout = { name: string; shape: number[] }[];

const FLOAT_BYTES = 4;
/** Names, as shared/learnedObjective.ts allows them: at most this long. */
const NAME_LENGTH = 200;

const size = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);
const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The tensors in name order (by UTF-16 code units: the same in every lab); refuses a repeated name, and values
 * that do not fill their shape.
 */
function canonicalTensors(tensors: readonly WeightTensor[]): WeightTensor[] {
  const sorted = [...tensors].sort(byName);
  for (const [i, t] of sorted.entries()) {
    if (i > 0 && sorted[i - 1].name === t.name) throw new LabError(`the objective's tensor ${t.name} appears twice`);
    if (t.values.length !== size(t.shape)) {
      throw new LabError(
        `the objective's tensor ${t.name} has shape [${t.shape.join(', ')}] (${size(t.shape)} values) ` +
          `but ${t.values.length} values`,
      );
    }
  }
  return sorted;
}

/** JSON with every object's keys sorted: one text for one value, whatever order its fields were built in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${fields
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Float32 values as little-endian bytes (whatever this machine's byte order). */
function float32Bytes(values: Float32Array): Buffer {
  const out = Buffer.alloc(values.length * FLOAT_BYTES);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i], i * FLOAT_BYTES);
  return out;
}

function float32Values(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / FLOAT_BYTES);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * FLOAT_BYTES, true);
  return out;
}

/**
 * The objective's sha256: the canonical JSON of its architecture and tensor layout (names and shapes in name
 * order), a line break (JSON holds none, so the header ends there), then every tensor's float32 bytes in that order.
 */
export function objectiveSha256(architecture: LearnedObjectiveSpec, tensors: readonly WeightTensor[]): string {
  const sorted = canonicalTensors(tensors);
  const hash = createHash('sha256');
  hash.update(canonicalJson({ architecture, tensors: layoutOf(sorted) }));
  hash.update('\n');
  for (const t of sorted) hash.update(float32Bytes(t.values));
  return hash.digest('hex');
}

const layoutOf = (sorted: readonly WeightTensor[]): TensorLayout =>
  sorted.map((t) => ({ name: t.name, shape: [...t.shape] }));

/** What the store keeps of the weights: the layout, and one buffer of every tensor's bytes in that order. */
export function packWeights(tensors: readonly WeightTensor[]): { layout: TensorLayout; weights: Buffer } {
  const sorted = canonicalTensors(tensors);
  return { layout: layoutOf(sorted), weights: Buffer.concat(sorted.map((t) => float32Bytes(t.values))) };
}

export function unpackWeights(layout: TensorLayout, weights: Uint8Array): WeightTensor[] {
  let offset = 0;
  return layout.map(({ name, shape }) => {
    const bytes = size(shape) * FLOAT_BYTES;
    const values = float32Values(weights.subarray(offset, offset + bytes));
    offset += bytes;
    return { name, shape, values };
  });
}

export const paramCount = (tensors: readonly { shape: number[] }[]) => tensors.reduce((n, t) => n + size(t.shape), 0);

/** `base`, cut so that `base + suffix` fits a stored name. */
export const fitName = (base: string, suffix: string) =>
  `${base.slice(0, NAME_LENGTH - suffix.length).trimEnd()}${suffix}`;

/** The name of the objective run N made: `<experiment name> · rN` (renameable). */
export const runObjectiveName = (run: Pick<Run, 'id' | 'experimentName'>) =>
  fitName(run.experimentName, ` · r${run.id}`);

/** Where an objective a run sent comes from: the run, its environments and population, how far it had got. */
export function runLineage(run: Run, progress: ObjectiveProgress): ObjectiveLineage {
  const { task } = run.spec;
  if (task.family !== 'rl') throw new LabError(`run r${run.id} is not a reinforcement-learning run`);
  const { algorithm } = task;
  return {
    runId: run.id,
    experimentId: run.experimentId,
    experimentName: run.experimentName,
    trainEnvs: [task.env, ...task.moreEnvs],
    population: 'population' in algorithm ? algorithm.population : 1,
    metaSteps: progress.metaSteps,
    agentSteps: progress.agentSteps,
    finished: progress.finished,
    importedFrom: null,
  };
}

/** A stored objective as the file another lab imports (values as base64 of little-endian float32). */
export function toObjectiveFile(stored: StoredObjective, tensors: readonly WeightTensor[]): ObjectiveFile {
  const { experimentName, trainEnvs, population, metaSteps, agentSteps, finished } = stored.lineage;
  return {
    format: OBJECTIVE_FILE_FORMAT,
    version: 1,
    name: stored.name,
    sha256: stored.sha256,
    architecture: stored.architecture,
    lineage: { experimentName, trainEnvs, population, metaSteps, agentSteps, finished },
    tensors: canonicalTensors(tensors).map((t) => ({
      name: t.name,
      shape: t.shape,
      values: float32Bytes(t.values).toString('base64'),
    })),
  };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * An objective file read and checked: its fields (the file format's schema), every tensor's values (base64 of as
 * many finite float32 as its shape holds) and its sha256 against its contents. Each refusal is one sentence
 * naming the file.
 */
export function readObjectiveFile(
  input: unknown,
  fileName: string,
): { file: ObjectiveFile; weights: LearnedObjectiveWeights } {
  const parsed = objectiveFile.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = formatPath(issue.path as (string | number)[]);
    throw new LabError(`${fileName} is not a metalab objective file: ${at ? `${at}: ` : ''}${issue.message}`);
  }
  const file = parsed.data;
  const tensors = file.tensors.map((t): WeightTensor => {
    if (!BASE64.test(t.values)) throw new LabError(`${fileName}: the values of tensor ${t.name} are not base64`);
    const bytes = Buffer.from(t.values, 'base64');
    const expected = size(t.shape);
    if (bytes.length !== expected * FLOAT_BYTES) {
      throw new LabError(
        `${fileName}: tensor ${t.name} has shape [${t.shape.join(', ')}] (${expected} values) but its values ` +
          `hold ${bytes.length / FLOAT_BYTES}`,
      );
    }
    const values = float32Values(bytes);
    if (!values.every(Number.isFinite)) throw new LabError(`${fileName}: tensor ${t.name} holds a NaN or infinity`);
    return { name: t.name, shape: t.shape, values };
  });
  const layout = objectiveLayout(file.architecture);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const want of layout) {
    const got = byName.get(want.name);
    if (!got) throw new LabError(`${fileName}: its architecture needs tensor ${want.name}, which the file lacks`);
    if (got.shape.join(',') !== want.shape.join(',')) {
      throw new LabError(
        `${fileName}: tensor ${want.name} has shape [${got.shape.join(', ')}]; its architecture needs ` +
          `[${want.shape.join(', ')}]`,
      );
    }
  }
  const extra = tensors.find((t) => !layout.some((l) => l.name === t.name));
  if (extra) throw new LabError(`${fileName}: tensor ${extra.name} is not part of its architecture`);
  let actual: string;
  try {
    actual = objectiveSha256(file.architecture, tensors);
  } catch (err) {
    throw new LabError(`${fileName}: ${(err as Error).message}`);
  }
  if (actual !== file.sha256) {
    throw new LabError(
      `${fileName} says its objective has sha256 ${file.sha256}, but its contents hash to ${actual}: the file was ` +
        'changed or damaged, and nothing was imported',
    );
  }
  return { file, weights: { architecture: file.architecture, tensors } };
}
