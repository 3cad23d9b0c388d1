// The page and other processes on one data folder: it shows runs another process creates without a reload,
// and reconnects by itself when its host is killed and started again.
import { describe, expect, it } from 'vitest';
import { launchChromium, screenshotPath } from '../helpers/browser';
import { metalab } from '../helpers/cli';
import { serve } from '../helpers/serve';
import { tempDir } from '../helpers/tmp';

describe('a page on a shared data folder', () => {
  it('shows runs another process creates, and reconnects after its host restarts', async () => {
    const home = tempDir();
    let host = await serve(home);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(host.url.href);
      await page.getByRole('link', { name: 'Runs' }).click();
      await expect.poll(() => page.getByText('No runs yet').count()).toBe(1);

      // Another process (the CLI) runs an experiment: it appears without a reload.
      expect(metalab(home, 'run', 'examples/tiny-regression.json', '--backend', 'wasm').code).toBe(0);
      await expect.poll(() => page.locator('tr[data-run-id="1"]').count(), { timeout: 5000 }).toBe(1);

      // The host is killed: the page says so; started again (same folder), the page reconnects by itself.
      host.child.kill('SIGKILL');
      await host.exited;
      await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 5000 }).toMatch(/reconnecting/);
      await page.screenshot({ path: screenshotPath('e2e', 'reconnecting') });
      const address = host.url.host;
      host = await serve(home);
      expect(host.url.host).toBe(address);
      await expect.poll(() => page.getByRole('alert').count(), { timeout: 10_000 }).toBe(0);
      expect(metalab(home, 'run', 'examples/tiny-regression.json', '--backend', 'wasm').code).toBe(0);
      await expect.poll(() => page.locator('tr[data-run-id="2"]').count(), { timeout: 5000 }).toBe(1);
    } finally {
      await browser.close();
      host.child.kill('SIGTERM');
      await host.exited;
    }
  }, 120_000);
});
