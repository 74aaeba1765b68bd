/**
 * A real Chromium (Debian's /usr/bin/chromium, driven by playwright-core) for the dashboard's
 * browser tests and its screenshot script. When no Chromium is installed, the tests skip with
 * {@link NO_CHROMIUM} as the reason (`.ci/run` installs it).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.MCPLANE_CHROMIUM ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const NO_CHROMIUM = `skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set MCPLANE_CHROMIUM)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}

/** A fresh browser context (its own cookies) logged in to the dashboard with `key`. */
export async function loggedIn(
  browser: Browser,
  origin: string,
  key: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: origin });
  const page = await context.newPage();
  await page.goto('/ui/login');
  await page.getByLabel('Admin API key').fill(key);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL('**/ui/');
  return { context, page };
}
