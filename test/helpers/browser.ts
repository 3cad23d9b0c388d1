import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Lab } from '../../main/services/lab';
import { appRoot, rendererDir } from '../../main/services/paths';
import { startWebHost, type WebHost } from '../../main/web/server';
import { testLab } from './lab';
import type { Store } from '../../main/services/store/index';
import { tempDir } from './tmp';

/** Debian's Chromium, headless, with the flags this offline machine needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

/** Screenshots go to test-output/<suite>/, kept for people to look at. */
export function screenshotPath(suite: string, name: string): string {
  const dir = path.join(appRoot(), 'test-output', suite);
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}

export interface LabPage {
  lab: Lab;
  host: WebHost;
  browser: Browser;
  page: Page;
  /** A second connection to the lab's database, for checks. */
  store: Store;
  /** Uncaught errors in the page; every suite expects none. */
  pageErrors: string[];
  stop(): Promise<void>;
}

/** A lab on a fresh METALAB_HOME, served by the web host, with one Chromium page (1400x900) ready to drive it. */
export async function openLabPage(prefix: string, concurrency: number): Promise<LabPage> {
  const { lab, store } = testLab(tempDir(prefix), concurrency);
  const host = await startWebHost({ lab, rendererDir: rendererDir() });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const stop = async () => {
    await browser.close();
    await host.close();
    await lab.close();
    store.close();
  };
  return { lab, store, host, browser, page, pageErrors, stop };
}
