import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { appRoot } from '../../main/services/paths';

/** Debian's Chromium, headless, with the flags this offline machine needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** Screenshots go to test-output/<suite>/, kept for people to look at. */
export function screenshotPath(suite: string, name: string): string {
  const dir = path.join(appRoot(), 'test-output', suite);
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}
