// The reference configurations of the benchmark, defined once: the TypeScript side builds them from the
// example specs, and exports each one (spec, initial weights, batches) to the PyTorch peer, which reads
// everything it needs from that export (bench/peer/peer.py), so both sides run the same thing.
import fs from 'node:fs';
import path from 'node:path';
import { runSpec } from '../shared/spec.js';
import type { SequenceRunSpec } from '../main/engine/train.js';
import { transformerStateSize } from '../main/engine/models/transformer.js';

export interface BenchConfig {
  /** Short key used in the table and the JSON output. */
  key: string;
  title: string;
  /** Where the spec comes from, and what was changed. */
  source: string;
  spec: SequenceRunSpec;
}

function example(name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join('examples', name), 'utf8')) as Record<string, unknown>;
}

/** Applies `over` to a spec input one section deep (task, model, training), then validates it. */
function make(
  base: Record<string, unknown>,
  backend: string,
  over: Record<string, Record<string, unknown>> = {},
): SequenceRunSpec {
  const input: Record<string, unknown> = { ...base, backend };
  for (const [section, fields] of Object.entries(over)) {
    input[section] = section === 'model' ? fields : { ...(base[section] as Record<string, unknown>), ...fields };
  }
  return runSpec.parse(input) as SequenceRunSpec;
}

/**
 * (a) GPICL-lite Transformer: examples/gpicl-transformer.json as it is.
 * (b) LSTM with the Transformer's state size: GPICL counts a Transformer's state as its key-value cache,
 *     2 x dModel x layers x seqLen = 6144 here, and an LSTM's as 2 x hidden x layers, so one layer of
 *     hidden 3072, on the same task, sequence shape and batch as (a).
 * (b') The LSTM preset users start from: examples/gpicl-lstm.json as it is (hidden 128, state 256).
 * (c) VSML at its preset size: examples/gpicl-vsml.json as it is.
 * (d) The regression Transformer: examples/regression-transformer.json as it is.
 * `tiny` shrinks every one (for the CI test), keeping its kind and task family. `backend`: our side's.
 */
export function benchConfigs(tiny = false, backend = 'wasm'): BenchConfig[] {
  const gpicl = example('gpicl-transformer.json');
  const vsml = example('gpicl-vsml.json');
  const regression = example('regression-transformer.json');
  const lstmPreset = example('gpicl-lstm.json');
  const gpiclSpec = make(gpicl, backend);
  const state = transformerStateSize(gpiclSpec.model as { dModel: number; layers: number }, gpiclSpec.task.seqLen);
  const lstmHidden = state / 2;
  if (!tiny) {
    return [
      { key: 'transformer', title: 'GPICL Transformer', source: 'examples/gpicl-transformer.json', spec: gpiclSpec },
      {
        key: 'lstm',
        title: `LSTM, state ${state}`,
        source:
          `examples/gpicl-transformer.json with model lstm hidden ${lstmHidden} (state 2 x ${lstmHidden} = the ` +
          `Transformer's 2 x 64 x 2 x 24)`,
        spec: make(gpicl, backend, { model: { kind: 'lstm', hidden: lstmHidden, layers: 1 } }),
      },
      { key: 'lstm-preset', title: 'LSTM preset', source: 'examples/gpicl-lstm.json', spec: make(lstmPreset, backend) },
      { key: 'vsml', title: 'VSML', source: 'examples/gpicl-vsml.json', spec: make(vsml, backend) },
      {
        key: 'regression',
        title: 'Regression Transformer',
        source: 'examples/regression-transformer.json',
        spec: make(regression, backend),
      },
    ];
  }
  const small = { seqLen: 6 };
  const batch = { batchSize: 4 };
  return [
    {
      key: 'transformer',
      title: 'GPICL Transformer (tiny)',
      source: 'tiny',
      spec: make(gpicl, backend, {
        task: small,
        training: batch,
        model: { kind: 'transformer', dModel: 16, layers: 1, heads: 2 },
      }),
    },
    {
      key: 'lstm',
      title: 'LSTM (tiny)',
      source: 'tiny',
      spec: make(gpicl, backend, { task: small, training: batch, model: { kind: 'lstm', hidden: 16, layers: 1 } }),
    },
    {
      key: 'lstm-preset',
      title: 'LSTM preset (tiny)',
      source: 'tiny',
      spec: make(lstmPreset, backend, { task: small, training: batch, model: { kind: 'lstm', hidden: 8, layers: 2 } }),
    },
    {
      key: 'vsml',
      title: 'VSML (tiny)',
      source: 'tiny',
      spec: make(vsml, backend, {
        task: { ...small, inputDim: 4, classes: 3 },
        training: batch,
        model: { kind: 'vsml', stateSize: 4, messageSize: 4, ticks: 2 },
      }),
    },
    {
      key: 'regression',
      title: 'Regression Transformer (tiny)',
      source: 'tiny',
      spec: make(regression, backend, {
        task: small,
        training: batch,
        model: { kind: 'transformer', dModel: 16, layers: 1, heads: 2 },
      }),
    },
  ];
}
