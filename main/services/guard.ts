// The LabApi as the hosts serve it to a page: every request's arguments parsed with the contract's schemas
// first (shared/api.ts), so a refusal names the method, argument and field at fault.
import type { LabApi } from '../../shared/api.js';
import { LAB_API_METHODS, LabError, labApiArgs } from '../../shared/api.js';
import { formatPath } from '../../shared/spec.js';

/**
 * The LabApi as served to an untrusted page: every request's arguments are parsed with the contract's
 * schemas first, and a refusal names the argument and field at fault.
 */
export function guardedApi(lab: LabApi): LabApi {
  const api = {} as Record<keyof LabApi, (...args: unknown[]) => Promise<unknown>>;
  for (const method of LAB_API_METHODS) {
    api[method] = async (...args: unknown[]) => {
      const parsed = labApiArgs[method].safeParse(args);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const [index, ...rest] = issue.path;
        throw new LabError(
          `${method}: argument ${Number(index) + 1}` +
            `${rest.length ? ` field ${formatPath(rest as (string | number)[])}` : ''}: ${issue.message}`,
        );
      }
      return (lab[method] as (...a: unknown[]) => Promise<unknown>).apply(lab, parsed.data as unknown[]);
    };
  }
  return api as unknown as LabApi;
}
