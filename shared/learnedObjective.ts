// A learned objective (MetaGenRL's L_alpha) as an artifact of the lab: meta-trained by a `metagenrl` run, stored
// with its lineage, listed, exported as a file, imported into another lab, and picked as the learner of a new
// experiment (`learned-objective`, by its sha256). The sha256 covers the architecture and every weight, so a file
// imported anywhere keeps the identity specs refer to it by.
import { z } from 'zod';
import { envSpec, learnedObjectiveSpec, type EnvSpec, type LearnedObjectiveSpec } from './spec.js';
import { plainText } from './text.js';

/** Where an objective came from. `runId` and `experimentId` are of the lab that made it (null once imported). */
export interface ObjectiveLineage {
  runId: number | null;
  experimentId: number | null;
  experimentName: string;
  /** The environments its population trained on ([task.env, ...task.moreEnvs] of the run). */
  trainEnvs: EnvSpec[];
  population: number;
  /** Objective updates and agent environment steps (all agents) it was meta-trained for. */
  metaSteps: number;
  agentSteps: number;
  /** The run had finished (false: saved at an evaluation of a run still going, or stopped). */
  finished: boolean;
  /** Set when it came from a file: the file's name, and the lab time of the import. */
  importedFrom: string | null;
}

/** What `listObjectives` gives: everything but the weights. */
export interface StoredObjective {
  id: number;
  sha256: string;
  name: string;
  createdAt: number;
  architecture: LearnedObjectiveSpec;
  lineage: ObjectiveLineage;
  paramCount: number;
}

/** One weight tensor of a stored objective: name, shape, float32 values as base64 (little-endian). */
export interface ObjectiveTensor {
  name: string;
  shape: number[];
  values: string;
}

export const OBJECTIVE_FILE_FORMAT = 'metalab-learned-objective';

/** The file `exportObjective` writes and `importObjective` reads (JSON). */
export const objectiveFile = z
  .object({
    format: z.literal(OBJECTIVE_FILE_FORMAT),
    version: z.literal(1),
    name: plainText(z.string().trim().min(1).max(200)),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    architecture: learnedObjectiveSpec,
    lineage: z
      .object({
        experimentName: z.string().max(200),
        trainEnvs: z.array(envSpec).max(8),
        population: z.int().min(1),
        metaSteps: z.int().min(0),
        agentSteps: z.int().min(0),
        finished: z.boolean(),
      })
      .strict(),
    tensors: z
      .array(
        z
          .object({
            name: z.string().min(1).max(200),
            shape: z.array(z.int().min(1)).max(4),
            values: z.string().max(50_000_000),
          })
          .strict(),
      )
      .min(1)
      .max(1000),
  })
  .strict();
export type ObjectiveFile = z.output<typeof objectiveFile>;

/** The label a run trained by an objective carries in tables and Compare. */
export function objectiveLabel(ref: string, known: readonly Pick<StoredObjective, 'sha256' | 'name'>[]): string {
  if (ref === 'random' || ref === 'latest') return `${ref} objective`;
  const found = known.find((o) => o.sha256 === ref);
  return found ? `objective "${found.name}"` : `objective ${ref.slice(0, 8)}`;
}
