// The designer's sweep editor: a new axis starts with two distinct values in the field's range.
import { describe, expect, it } from 'vitest';
import { numericFields, specSchema } from '../../renderer/src/design/schema';
import { startingAxis } from '../../renderer/src/design/sweep';
import { expandExperiment } from '../../shared/spec';
import { tinySpec } from '../helpers/specs';

describe('designer sweep axes', () => {
  it('starts every numeric field with two distinct values that expand into valid, different runs', () => {
    const spec = tinySpec({ seed: 0, task: { family: 'gpicl-classification', classes: 10, numTasks: 4 } });
    const fields = numericFields(specSchema, spec);
    const axis = (path: string) => startingAxis(fields.find((f) => f.path === path)!, spec).values;
    expect(axis('seed')).toEqual([0, 1]);
    expect(axis('task.classes')).toEqual([10, 9]);
    expect(axis('task.biasedFraction')).toEqual([0, 1]);
    expect(axis('task.numTasks')).toEqual([4, 8]);
    expect(axis('training.learningRate')).toEqual([0.01, 0.001]);
    for (const field of fields) {
      const r = expandExperiment({ ...spec, sweep: { axes: [startingAxis(field, spec)] } });
      expect(r.ok && r.runs.length, field.path).toBe(2);
    }
  });
});
