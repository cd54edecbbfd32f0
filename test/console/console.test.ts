/**
 * The web console in headless Chromium against the real service and database: one person's
 * session from sign-in to sign-out, each step a test, in order. The webhooks are posted by the
 * test itself, as a provider would. `UPDATE_SCREENSHOT=1` rewrites the README's screenshots.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/paths';
import { endpointTab, launchChromium, signIn, watchPage, type PageWatch } from '../support/browser';
import { buildProject, type TestProject } from '../support/factories';
import { capturingLogger, rememberSecret } from '../support/log-scan';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

// The browser's globals, for the functions page.evaluate runs in the page: this file compiles
// against Node's types, and these stay local to it.
declare const sessionStorage: { length: number; [key: string]: unknown };
declare const localStorage: { length: number };
declare const navigator: { clipboard: { readText(): Promise<string> } };
declare const document: { activeElement: { getAttribute(name: string): string | null } | null; documentElement: { scrollWidth: number } };

const STATIC_TOKEN = 'console-static-token-0123456789';
const WEBHOOKS = [
  { body: '{"type":"invoice.paid","id":"evt_1","amount":12345678901234567890,"data":{"object":{"id":"in_1"}}}', type: 'invoice.paid' },
  { body: '{"type":"customer.created","id":"evt_2","data":{"object":{"id":"cus_1","name":"Ada"}}}', type: 'customer.created' },
  { body: '{"type":"charge.refunded","id":"evt_3","data":{}}', type: 'charge.refunded' },
];

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let project: TestProject;
const logs = capturingLogger();
/** What the console learnt along the way: the endpoint's id and ingest path. */
const made = { endpointId: '', ingestPath: '', eventIds: [] as string[] };

const update = process.env.UPDATE_SCREENSHOT === '1';
async function screenshot(name: string, target: Page = page): Promise<void> {
  if (!update) return;
  await target.waitForTimeout(300);
  await target.screenshot({ path: path.join(PROJECT_ROOT, 'docs', `console-${name}.png`), fullPage: false });
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(PROJECT_ROOT, 'build/console/index.html'))) throw new Error('build/console is missing: run `npm run build` first');
  server = await startTestServer({ logger: logs.logger });
  project = await buildProject(server.db, 'console project');
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['clipboard-read', 'clipboard-write'] });
  page = await context.newPage();
  watch = watchPage(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the console, in Chromium', () => {
  it('signs in with an API key, kept in sessionStorage only', async () => {
    await page.goto(`${server.baseUrl}/console`);
    await signIn(page, 'pek_wrong_key_0000000000000000');
    await expectText(page.getByRole('alert'), 'The service refused this API key');
    // Chromium logs every 4xx answer as a console error: this one is the wrong key's, on purpose.
    watch.errors.length = 0;

    await signIn(page, project.apiKey);
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([project.apiKey]);
  });

  it('creates an endpoint with a static token, and copies its ingest URL, shown once', async () => {
    await page.getByRole('button', { name: 'New endpoint' }).click();
    await page.getByLabel('Name').fill('stripe test');
    await page.getByLabel('Read from').selectOption('body');
    await page.getByLabel('Path or header').fill('type');
    await page.getByLabel('Require a static token').check();
    await page.getByLabel('Token header').fill('X-Webhook-Token');
    await page.getByLabel('Token value').fill(STATIC_TOKEN);
    rememberSecret(STATIC_TOKEN);
    await page.getByRole('button', { name: 'Create endpoint' }).click();

    await expectText(page.locator('.once'), 'Shown once');
    const shown = await page.locator('#ingest-url').textContent();
    await page.getByRole('button', { name: 'Copy URL' }).click();
    await expectText(page.locator('#toast'), 'Copied the ingest URL');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(shown);
    expect(copied).toMatch(/^http:\/\/127\.0\.0\.1\/pull\/pes_[\w-]+$/);
    made.ingestPath = new URL(copied).pathname;
    rememberSecret(made.ingestPath.split('/').pop());
    await screenshot('created');

    await page.getByRole('link', { name: 'Open the endpoint and watch its events' }).click();
    await page.getByRole('heading', { name: /stripe test/ }).waitFor();
    made.endpointId = page.url().split('#/endpoints/')[1]!.split('/')[0]!;
  });

  it('shows webhooks in live mode as they arrive, without a storm of requests', async () => {
    await expectText(page.locator('.empty'), 'No webhooks yet');
    await page.getByRole('button', { name: 'Live' }).click();
    expect(await page.getByRole('button', { name: 'Live' }).getAttribute('aria-pressed')).toBe('true');
    const before = watch.requested.length;
    const started = Date.now();
    for (const webhook of WEBHOOKS) {
      const answer = await postWebhook(server.baseUrl, made.ingestPath, webhook.body, { 'X-Webhook-Token': STATIC_TOKEN, 'X-Provider-Note': 'sent by the console test' });
      expect(answer.status).toBe(202);
      made.eventIds.unshift(answer.body.data.event_id);
    }
    await page.locator('table.events tbody tr').nth(2).waitFor({ timeout: 15_000 });
    const rows = page.locator('table.events tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event-id')))).toEqual(made.eventIds);
    await expectText(rows.first(), 'charge.refunded');

    // One check every 2 s, one at a time: a few requests for these seconds, not a stream of them.
    await page.waitForTimeout(3000);
    const seconds = (Date.now() - started) / 1000;
    const polls = watch.requested.slice(before).filter((url) => url.includes('/v1/pull-logs')).length;
    expect(polls).toBeGreaterThanOrEqual(1);
    expect(polls).toBeLessThanOrEqual(Math.ceil(seconds / 2) + 1);
    await screenshot('events');
  });

  it('opens an event with the keyboard and shows its exact payload and headers', async () => {
    const rows = page.locator('table.events tbody tr');
    await rows.first().focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-event-id'))).toBe(made.eventIds[2]);
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: /invoice\.paid/ }).waitFor();
    // Pretty-printed, every digit of the big number kept; the raw view is the bytes as posted.
    await expectText(page.locator('pre.payload'), '"amount": 12345678901234567890');
    await page.getByRole('button', { name: 'Show raw' }).click();
    expect(await page.locator('pre.payload').textContent()).toBe(WEBHOOKS[0]!.body);
    const headers = page.locator('table.headers');
    await expectText(headers, 'x-provider-note');
    await expectText(headers, 'sent by the console test');
    expect(await headers.textContent()).not.toContain(STATIC_TOKEN);
    await page.getByRole('button', { name: 'Show raw' }).click();
    await screenshot('event');

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download raw' }).click();
    const file = await (await download).path();
    expect(fs.readFileSync(file, 'utf8')).toBe(WEBHOOKS[0]!.body);

    await page.getByRole('button', { name: 'Copy as curl' }).click();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    expect(curl).toContain(`--data-binary '${WEBHOOKS[0]!.body}'`);
    expect(curl).toContain(`-H 'x-provider-note: sent by the console test'`);
  });

  it('selects two events and deletes them in a batch, showing each outcome', async () => {
    await page.locator('.crumbs').getByRole('link', { name: 'Events', exact: true }).click();
    await page.locator('table.events').waitFor();
    const [newest, second] = made.eventIds;
    await page.getByLabel(`Select event ${newest}`).check();
    await page.locator(`tr[data-event-id="${second}"]`).focus();
    await page.keyboard.press(' ');
    await expectText(page.locator('.selection'), '2 selected');
    await page.getByRole('button', { name: 'Delete selected' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();

    const outcomes = page.locator('.outcomes li');
    await outcomes.nth(1).waitFor();
    expect(await outcomes.evaluateAll((lis) => lis.map((li) => [li.querySelector('code')?.textContent, li.getAttribute('data-outcome')]))).toEqual([
      [newest, 'deleted'],
      [second, 'deleted'],
    ]);
    await expectText(page.locator('.outcome'), 'Deleted 2, already deleted 0, not found 0.');
    await expectText(page.locator(`tr[data-event-id="${newest}"]`), 'deleted');
    await screenshot('deleted');

    // A deleted event still opens: its deletion record, its payload and headers erased.
    await page.locator(`tr[data-event-id="${newest}"] a`).click();
    await page.getByText('The payload was erased (the event was deleted).').waitFor();
    await expectText(page.locator('.facts'), 'Deleted');
    await page.goBack();
    await page.locator('table.events').waitFor();
  });

  it('shows a rejection after a webhook with the wrong static token', async () => {
    const answer = await postWebhook(server.baseUrl, made.ingestPath, '{"type":"forged"}', { 'X-Webhook-Token': 'not-the-token-at-all-000' });
    expect(answer.status).toBe(401);
    await tab('Rejections').click();
    const row = page.locator('table.rejections tbody tr').first();
    await row.waitFor();
    expect(await row.getAttribute('data-reason')).toBe('bad_token');
    await expectText(row, '127.0.0.1');
    await row.getByText(/headers?$/).click();
    await expectText(row.locator('.header-list'), 'content-type');
    await screenshot('rejections');
  });

  it('draws the metrics chart of the last hour', async () => {
    await tab('Metrics').click();
    const chart = page.locator('svg.chart');
    await chart.waitFor();
    expect(await chart.locator('polyline').count()).toBe(4);
    expect(await chart.locator('.series.received circle').count()).toBeGreaterThanOrEqual(1);
    await expectText(page.locator('.legend'), 'Received: 3');
    await expectText(page.locator('.legend'), 'Rejected: 1');
    await screenshot('metrics');
  });

  it('fits a 390 px wide screen without sideways scrolling', async () => {
    const narrow = await context.newPage();
    const narrowWatch = watchPage(narrow);
    await narrow.setViewportSize({ width: 390, height: 844 });
    // sessionStorage belongs to a tab: a new one signs in again.
    await narrow.goto(`${server.baseUrl}/console#/endpoints/${made.endpointId}/events`);
    await signIn(narrow, project.apiKey);
    await narrow.locator('table.events').waitFor();
    expect(await narrow.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot('narrow', narrow);
    await narrow.close();
    expect(narrowWatch.errors).toEqual([]);
  });

  it('signs out and forgets the key', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.goto(`${server.baseUrl}/console#/endpoints`);
    await page.getByLabel('API key').waitFor();
  });

  it('asked nothing of any other host, logged no error, and never put the key in a URL, localStorage, a cookie or a log', async () => {
    expect(watch.requested.length).toBeGreaterThan(10);
    expect(watch.requested.filter((url) => new URL(url).origin !== server.baseUrl && !url.startsWith('blob:'))).toEqual([]);
    expect(watch.errors).toEqual([]);
    expect(watch.requested.filter((url) => url.includes(project.apiKey))).toEqual([]);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await context.cookies()).toEqual([]);
    const log = logs.lines.join('');
    expect(log).toContain('/v1/pull-logs');
    expect(log).not.toContain(project.apiKey);
  });
});

const tab = (name: string) => endpointTab(page, name);

async function expectText(locator: ReturnType<Page['locator']>, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: 10_000 });
}
