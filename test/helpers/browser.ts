import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import bundledChromium from '@sparticuz/chromium';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Lab } from '../../main/services/lab';
import { appRoot, rendererDir } from '../../main/services/paths';
import { startWebHost, type WebHost } from '../../main/web/server';
import { testLab } from './lab';
import type { Store } from '../../main/services/store/index';
import { systemPath } from './system';
import { tempDir } from './tmp';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** CHROMIUM_PATH, else Debian's Chromium; null where neither is given or installed. */
export function systemChromium(): string | null {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  const debian = systemPath('/usr/bin/chromium');
  return fs.existsSync(debian) ? debian : null;
}

/**
 * The system's Chromium (see systemChromium), headless, with the flags this offline machine needs; else the
 * headless shell that the npm package @sparticuz/chromium ships, with the fonts it unpacks next to it (a machine
 * without Debian's Chromium may have none, and then renders no text).
 */
export async function launchChromium(): Promise<Browser> {
  const system = systemChromium();
  if (system) return chromium.launch({ executablePath: system, args: ARGS });
  const env = { ...process.env, FONTCONFIG_PATH: path.join(os.tmpdir(), 'fonts') };
  return chromium.launch({ executablePath: await unpackBundledChromium(), args: ARGS, env });
}

const UNPACK_LOCK = path.join(os.tmpdir(), 'metalab-chromium-unpack.lock');

/**
 * @sparticuz/chromium's binary. Its executablePath() takes /tmp/chromium as unpacked once that file exists, even
 * while another test file's call is still writing it, so one process unpacks at a time (a lock older than two
 * minutes was left by a killed one).
 */
async function unpackBundledChromium(): Promise<string> {
  for (;;) {
    try {
      fs.mkdirSync(UNPACK_LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (fs.statSync(UNPACK_LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) fs.rmSync(UNPACK_LOCK, { recursive: true, force: true });
      else await sleep(200);
    }
  }
  try {
    return await bundledChromium.executablePath();
  } finally {
    fs.rmSync(UNPACK_LOCK, { recursive: true, force: true });
  }
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
  const { lab, store } = testLab(tempDir(prefix, 'file'), concurrency);
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
