// End to end: the web host, real workers, and Debian's Chromium driving the built page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openLabPage, screenshotPath } from '../helpers/browser';
import type { WebHost } from '../../main/web/server';

let browser: Browser;
let host: WebHost;
let page: Page;
let stop: () => Promise<void>;
let pageErrors: string[];

beforeAll(async () => {
  ({ host, browser, page, pageErrors, stop } = await openLabPage('metalab-e2e-', 1));
});
afterAll(() => stop());

describe('the lab in a browser', () => {
  it('refuses to connect without the token', async () => {
    const bare = await browser.newPage();
    await bare.goto(`http://127.0.0.1:${host.port}/#/runs`);
    await expect
      .poll(() => bare.getByRole('alert').textContent())
      .toContain('needs the address that `metalab serve` printed');
    await bare.close();
  });

  it('starts a run from the designer and follows it to the end', async () => {
    await page.goto(host.url);
    await page.getByRole('link', { name: 'Runs' }).waitFor();
    expect(new URL(page.url()).search).toBe(''); // the token is taken out of the address bar
    await expect.poll(() => page.getByTestId('runs-table').textContent()).toContain('No runs yet');

    await page.getByRole('link', { name: 'Design' }).click();
    await page.getByRole('tab', { name: 'JSON' }).click();
    const editor = page.getByRole('textbox', { name: 'experiment spec (JSON)' });
    await page.getByRole('combobox', { name: 'example spec' }).selectOption('tiny-regression');
    await expect.poll(() => page.getByTestId('spec-status').textContent()).toContain('valid · 1 run');
    const good = await editor.inputValue();

    await editor.fill(good.replace('"steps": 300', '"steps": -5'));
    await expect.poll(() => page.getByTestId('spec-issues').textContent()).toMatch(/training\.steps: Too small/);
    expect(await page.getByRole('button', { name: 'Start' }).isDisabled()).toBe(true);
    await page.screenshot({ path: screenshotPath('e2e', 'design-invalid') });

    await editor.fill(good);
    await expect.poll(() => page.getByTestId('spec-status').textContent()).toContain('valid');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/runs$/);
    const row = page.locator('tr[data-run-id="1"]');
    await expect.poll(() => row.locator('.status').textContent(), { timeout: 30_000 }).toBe('finished');
    expect(await row.textContent()).toContain('300/300');
    expect(await row.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    await page.screenshot({ path: screenshotPath('e2e', 'runs') });

    await row.getByRole('link', { name: 'r1' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toContain('r1');
    await expect.poll(() => page.locator('canvas').count()).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: screenshotPath('e2e', 'run-detail'), fullPage: true });
    await page.getByRole('button', { name: 'switch to dark theme' }).click();
    await page.screenshot({ path: screenshotPath('e2e', 'run-detail-dark'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
