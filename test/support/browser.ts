import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

// Debian's chromium, which .ci/run installs: playwright-core downloads no browser of its own.
const CHROMIUM = '/usr/bin/chromium';
// Without the networking flags Chromium tries to reach Google's hosts, which this machine refuses.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** What a page asked for and what it logged as an error, from now on. */
export interface PageWatch {
  requested: string[];
  errors: string[];
}

export function watchPage(page: Page): PageWatch {
  const watch: PageWatch = { requested: [], errors: [] };
  page.on('request', (request) => watch.requested.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') watch.errors.push(message.text());
  });
  page.on('pageerror', (error) => watch.errors.push(String(error)));
  return watch;
}

/** Fills the console's sign-in form with `apiKey` and submits it (the caller waits for what follows). */
export async function signIn(page: Page, apiKey: string): Promise<void> {
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A tab of the console's endpoint page: Events, Rejections, Metrics or Settings. */
export function endpointTab(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Endpoint' }).getByRole('link', { name, exact: true });
}
