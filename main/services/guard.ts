// The LabApi as the hosts serve it to a page: every request's arguments parsed with the contract's schemas
// first (shared/api.ts), so a refusal names the method, argument and field at fault.
import type { LabApi } from '../../shared/api.js';
import { LAB_API_METHODS, LabError, labApiArgs } from '../../shared/api.js';
import { formatPath } from '../../shared/spec.js';

type Names<P extends unknown[]> = { [I in keyof P]-?: string };

/** Each method's argument names, for messages; one name per parameter of the LabApi method (checked by tsc). */
const ARG_NAMES = {
  getInfo: [],
  setConcurrency: ['concurrency'],
  validateSpec: ['spec'],
  planExperiment: ['spec'],
  listDatasets: [],
  createExperiment: ['spec'],
  listExperiments: [],
  getExperiment: ['id'],
  updateExperiment: ['patch'],
  deleteExperiment: ['id'],
  listRuns: ['filter'],
  getRun: ['id'],
  cancelRun: ['id'],
  retryRun: ['id', 'options'],
  deleteRun: ['id'],
  getSeries: ['runIds', 'keys', 'options'],
  getEvalCurves: ['runId'],
  listMetricKeys: ['runId'],
  exportRuns: ['ref', 'format'],
  listRollouts: ['runId'],
  getRollout: ['runId', 'step', 'split'],
  listObjectives: [],
  exportObjective: ['id'],
  importObjective: ['file', 'fileName'],
  renameObjective: ['id', 'name'],
  deleteObjective: ['id'],
  getClusterProfile: [],
  setClusterProfile: ['profile'],
} satisfies { [K in keyof LabApi]: Names<Parameters<LabApi[K]>> };

const argNames = (method: keyof LabApi): readonly string[] => ARG_NAMES[method];

/** Whether `name` is a LabApi method (own entries of the contract only: not `toString`, `constructor`…). */
export function isLabApiMethod(name: unknown): name is keyof LabApi {
  return typeof name === 'string' && Object.hasOwn(labApiArgs, name);
}

/** `getRun takes 1 argument (id), got 0`: the count and names from the method's argument schema (a zod tuple). */
function countError(method: keyof LabApi, given: number): LabError | null {
  const items = labApiArgs[method].def.items;
  const required = items.findLastIndex((item) => item.def.type !== 'optional') + 1;
  if (given >= required && given <= items.length) return null;
  const names = argNames(method).map((name, i) => (i < required ? name : `${name}?`));
  const plural = items.length === 1 ? '' : 's';
  const count =
    items.length === 0
      ? 'no arguments'
      : required === items.length
        ? `${items.length} argument${plural}`
        : `${required ? `${required} to` : 'at most'} ${items.length} argument${plural}`;
  return new LabError(`${method} takes ${count}${names.length ? ` (${names.join(', ')})` : ''}, got ${given}`);
}

/**
 * The LabApi as served to an untrusted page: every request's arguments are parsed with the contract's
 * schemas first, and a refusal names the argument and field at fault. The object has no prototype, so only
 * LabApi methods answer.
 */
export function guardedApi(lab: LabApi): LabApi {
  const api = Object.create(null) as Record<keyof LabApi, (...args: unknown[]) => Promise<unknown>>;
  for (const method of LAB_API_METHODS) {
    api[method] = async (...args: unknown[]) => {
      const wrongCount = countError(method, args.length);
      if (wrongCount) throw wrongCount;
      const parsed = labApiArgs[method].safeParse(args);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const [index, ...rest] = issue.path;
        const argument = typeof index === 'number' ? ` argument ${index + 1} (${argNames(method)[index]})` : '';
        const field = rest.length ? ` field ${formatPath(rest as (string | number)[])}` : '';
        throw new LabError(`${method}:${argument}${field}: ${issue.message}`);
      }
      return (lab[method] as (...a: unknown[]) => Promise<unknown>).apply(lab, parsed.data as unknown[]);
    };
  }
  return api as unknown as LabApi;
}
