import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ARTIFACTS } from './circuit.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ARTIFACTS, 'screenshots');

/** Headless Debian Chromium; the background-networking flags keep it off the (closed) network. */
export function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface Shown {
  verdict: string;
  title: string;
  reason: string;
}

/** Waits for the page's verdict to settle; `forget` first so an earlier verdict is not taken for the next one. */
export async function forgetVerdict(page: Page): Promise<void> {
  await page.evaluate(() => {
    document.getElementById('verdict')!.dataset.verdict = '';
  });
}

export async function settledVerdict(page: Page): Promise<Shown> {
  await page.waitForFunction(() => {
    const v = document.getElementById('verdict')?.dataset.verdict;
    return !!v && v !== 'busy';
  }, null, { timeout: 60_000 });
  return {
    verdict: (await page.getAttribute('#verdict', 'data-verdict')) ?? '',
    title: (await page.textContent('#verdict-title')) ?? '',
    reason: (await page.textContent('#verdict-reason')) ?? '',
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
