// The RL learners against PyTorch (bench/peer/rl.py on Debian's /usr/bin/python3): from the same weights on the
// same minibatches, TD3's critic and actor losses and every gradient, and PPO's clipped loss (policy, value,
// entropy) and gradients for discrete and Gaussian actions, then the losses of a few updates with Adam and
// clipping. Skipped, saying so, where that Python has no torch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCase, ppoCase, RL_RTOL, RL_STEPS_RTOL, RlPeer, td3Case } from '../../bench/rl';
import { initBackend } from '../../main/engine/backends';
import { pythonWith } from '../helpers/system';
import { tempDir } from '../helpers/tmp';

const what = 'RL learners against the PyTorch peer';
const python = pythonWith('torch', what);

describe.skipIf(!python)(what, () => {
  let peer: RlPeer;
  beforeAll(async () => {
    await initBackend('wasm');
    peer = new RlPeer(python!);
  });
  afterAll(() => peer.close());

  const cases = {
    'TD3 (clipped gradients)': () => td3Case('td3', { hidden: [32, 24], batch: 64, gradClip: 1, root: tempDir() }),
    'TD3 (no clipping, 2 action dimensions)': () =>
      td3Case('td3-2d', { hidden: [16], batch: 32, obsSize: 5, actionSize: 2, root: tempDir() }),
    'PPO, discrete actions': () =>
      ppoCase('ppo-discrete', {
        hidden: [32, 32],
        batch: 64,
        obsSize: 4,
        action: { kind: 'discrete', n: 3 },
        root: tempDir(),
      }),
    'PPO, Gaussian actions': () =>
      ppoCase('ppo-gaussian', {
        hidden: [32, 32],
        batch: 64,
        obsSize: 3,
        action: { kind: 'box', size: 2, low: -2, high: 2 },
        root: tempDir(),
      }),
  };

  for (const [name, make] of Object.entries(cases)) {
    it(`${name}: losses and gradients agree, and over 4 updates`, async () => {
      const c = make();
      try {
        const r = await checkCase(c, peer, 4);
        expect(r.lossDiff).toBeLessThan(RL_RTOL);
        expect(r.gradDiff).toBeLessThan(RL_RTOL);
        expect(r.stepsDiff).toBeLessThan(RL_STEPS_RTOL);
      } finally {
        c.dispose();
      }
    });
  }
});
