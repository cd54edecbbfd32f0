/**
 * The console's other half in Chromium: an endpoint's settings, pause and resume, token rotation
 * and deletion, and the events table's filters, paging and acknowledgement, each checked against
 * what the API then answers.
 */
import type { Browser, Page, Route } from 'playwright-core';
import { endpointTab, launchChromium, signIn, watchPage, type PageWatch } from '../support/browser';
import { buildEndpointWithToken, buildEvents, buildProject, randomId, type TestProject } from '../support/factories';
import { waitFor } from '../support/processes';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

// The page's own global, for the function page.evaluate runs there (this file has Node's types).
declare const document: { activeElement: { getAttribute(name: string): string | null } | null };

let server: TestServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let project: TestProject;
let endpoint: { id: string; ingestPath: string };
/** The seeded events, oldest first (the table shows them newest first). */
let seeded: string[];

beforeAll(async () => {
  server = await startTestServer();
  project = await buildProject(server.db, 'console actions');
  endpoint = await buildEndpointWithToken(server.db, project.projectId);
  seeded = await buildEvents(server.db, endpoint.id, 60);
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  watch = watchPage(page);
  await page.goto(`${server.baseUrl}/console#/endpoints/${endpoint.id}/events`);
  await signIn(page, project.apiKey);
  await page.locator('table.events').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const rowIds = () => page.locator('table.events tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event-id')));
const tab = (name: string) => endpointTab(page, name);
const endpointNow = async () => (await server.client(project.apiKey).GET('/v1/pull-endpoints/{id}', { params: { path: { id: endpoint.id } } })).data!.data;

describe('the events table', () => {
  it('pages 50 at a time, newest first, forward and back by cursor', async () => {
    const newestFirst = [...seeded].reverse();
    expect(await rowIds()).toEqual(newestFirst.slice(0, 50));
    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText('Page 2').waitFor();
    expect(await rowIds()).toEqual(newestFirst.slice(50));
    expect(await page.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.getByText('Page 1').waitFor();
    expect(await rowIds()).toEqual(newestFirst.slice(0, 50));
  });

  it('acknowledges the selected events, then finds them with the status filter', async () => {
    const [first, second] = [...seeded].reverse();
    // The table is read again after the ack. That answer is held back here until the filtered one
    // has been shown, so that it arrives last, as it once did on a loaded CI machine: a late answer
    // must not replace a newer one.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const unfiltered = (url: URL) => url.pathname === '/v1/pull-logs' && !url.searchParams.has('status');
    const holdUnfiltered = async (route: Route) => {
      await held;
      await route.continue();
    };
    await page.route(unfiltered, holdUnfiltered);
    try {
      await page.getByLabel(`Select event ${first}`).check();
      await page.getByLabel(`Select event ${second}`).check();
      await page.getByRole('button', { name: 'Acknowledge selected' }).click();
      await page.locator('.outcome').getByText('Acknowledged 2 of 2 selected').waitFor();

      await page.getByLabel('Status').selectOption('delivered');
      await page.getByRole('button', { name: 'Apply' }).click();
      await waitFor(async () => (await rowIds()).length === 2, 5000, 'the table to hold the 2 delivered events');
      const lateAnswer = page.waitForEvent('requestfinished', (request) => unfiltered(new URL(request.url())));
      release();
      await lateAnswer;
      // Time for the page to handle that answer, were it to draw it.
      await page.waitForTimeout(300);
    } finally {
      release();
      await page.unroute(unfiltered, holdUnfiltered);
    }
    expect(await rowIds()).toEqual([first, second]);
    // The keyboard lands on the first row after filtering.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-event-id'))).toBe(first);
  });

  it('filters by event type', async () => {
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Event type').fill('order.paid');
    const paid = await server.db.pullEvent.findMany({ where: { pullEndpointId: endpoint.id, eventType: 'order.paid' }, select: { id: true }, orderBy: { id: 'desc' }, take: 50 });
    expect(paid.length).toBeGreaterThan(0);
    expect(paid.length).toBeLessThan(seeded.length);
    await page.getByRole('button', { name: 'Apply' }).click();
    // The table shows the unfiltered rows until the filtered answer arrives: wait for it to change.
    const expected = paid.map((event) => event.id);
    await waitFor(async () => (await rowIds()).join() === expected.join(), 5000, `the table to hold the ${paid.length} order.paid events`);
    expect(await rowIds()).toEqual(expected);
    const types = await page.locator('table.events tbody tr td:nth-child(3)').allTextContents();
    expect(new Set(types)).toEqual(new Set(['order.paid']));
  });
});

describe('an event’s page', () => {
  it('acknowledges the event, then deletes it after confirmation', async () => {
    await page.getByLabel('Event type').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    const id = seeded[10]!;
    await page.locator(`tr[data-event-id="${id}"] a`).click();
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('h1 .badge').getByText('delivered').waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('The payload was erased (the event was deleted).').waitFor();
    const read = await server.client(project.apiKey).GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpoint.id, event_id: id }, query: { preview: true } } });
    expect(read.data!.data).toMatchObject({ status: 'delivered', deleted_at: expect.any(String) });
    await page.locator('.crumbs').getByRole('link', { name: 'Events', exact: true }).click();
    await page.locator('table.events').waitFor();
  });
});

describe('the endpoint', () => {
  it('saves edited settings, and keeps a secret it was not given again', async () => {
    await tab('Settings').click();
    await page.getByLabel('Retention (days)').fill('14');
    await page.getByLabel('Read from').selectOption('header');
    await page.getByLabel('Path or header').fill('X-Event-Type');
    await page.getByLabel('Require an HMAC signature').check();
    await page.getByLabel('Signature scheme').selectOption('stripe');
    await page.getByLabel('Signing secret').fill('console-hmac-secret');
    await page.getByLabel('Signed time tolerance (seconds)').fill('600');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#toast').getByText('Settings saved').waitFor();
    expect(await endpointNow()).toMatchObject({ retention_days: 14, event_type_source: 'header', event_type_path: 'X-Event-Type', verify_hmac: true, hmac_scheme: 'stripe', hmac_secret_set: true, timestamp_ttl_seconds: 600 });

    // Saving again with the secret field empty leaves the secret as it was.
    await page.getByLabel('Retention (days)').fill('');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#toast').getByText('Settings saved').waitFor();
    await waitFor(async () => (await endpointNow()).retention_days === null, 5000, 'the retention to be cleared');
    expect(await endpointNow()).toMatchObject({ verify_hmac: true, hmac_secret_set: true });
  });

  it('shows a refused setting with the service’s message', async () => {
    await page.getByLabel('Allowed addresses').fill('not-an-address');
    await page.getByLabel('Accept only these addresses').check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('form.settings .error').getByText(/allowed_cidrs/).waitFor();
    expect((await endpointNow()).verify_ip_allowlist).toBe(false);
  });

  it('pauses and resumes', async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('h1 .badge').getByText('Paused').waitFor();
    expect((await endpointNow()).paused).toBe(true);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('h1 .badge').getByText('Active').waitFor();
    expect((await endpointNow()).paused).toBe(false);
  });

  it('rotates the token after confirmation, keeping the old URL working as long as chosen', async () => {
    await page.getByRole('button', { name: 'Rotate token' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect(await page.locator('#ingest-url').count()).toBe(0);

    // The endpoint verifies Stripe signatures now: a token it knows takes an unsigned webhook as far
    // as the signature check (a rejection recorded); one it no longer knows, not that far.
    const rejections = async () => (await server.client(project.apiKey).GET('/v1/pull-endpoints/{id}/rejections', { params: { path: { id: endpoint.id } } })).data!.data.length;
    const known = async (path: string) => {
      const before = await rejections();
      expect((await postWebhook(server.baseUrl, path, '{}')).status).toBe(401);
      return (await rejections()) > before;
    };

    await page.getByRole('button', { name: 'Rotate token' }).click();
    await page.getByLabel('The current URL keeps working').selectOption('3600');
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    const first = new URL((await page.locator('#ingest-url').textContent())!).pathname;
    expect(first).toMatch(/^\/pull\/pes_/);
    expect(first).not.toBe(endpoint.ingestPath);
    expect([await known(endpoint.ingestPath), await known(first)]).toEqual([true, true]);

    // Rotating again at once stops both older tokens.
    await page.getByRole('button', { name: 'Rotate token' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    await page.locator('#ingest-url').filter({ hasNotText: first }).waitFor();
    const second = new URL((await page.locator('#ingest-url').textContent())!).pathname;
    expect([await known(endpoint.ingestPath), await known(first), await known(second)]).toEqual([false, false, true]);
  });

  it('pages the rejections 50 at a time, once each however fast the button is clicked', async () => {
    const receivedAt = Date.now() - 3_600_000;
    await server.db.pullEndpointRejection.createMany({
      data: Array.from({ length: 60 }, (_, i) => ({ pullEndpointId: endpoint.id, id: randomId(), receivedAt: new Date(receivedAt + i), reason: 'paused', sourceIp: '192.0.2.7', method: 'POST' })),
    });
    const total = await server.db.pullEndpointRejection.count({ where: { pullEndpointId: endpoint.id } });
    const rows = page.locator('table.rejections tbody tr');
    await tab('Rejections').click();
    await rows.nth(49).waitFor();
    expect(await rows.count()).toBe(50);
    // A double click asks once: the button is disabled while its page is on the way.
    await page.getByRole('button', { name: 'Load older' }).dblclick();
    await page.getByRole('button', { name: 'Load older' }).waitFor({ state: 'detached' });
    await waitFor(async () => (await rows.count()) >= total, 5000, `the table to hold the ${total} rejections`);
    // Time for a second page, were one asked for, to arrive.
    await page.waitForTimeout(300);
    expect(await rows.count()).toBe(total);
  });

  it('deletes the endpoint only once confirmed, then lists it no more', async () => {
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect((await server.client(project.apiKey).GET('/v1/pull-endpoints/{id}', { params: { path: { id: endpoint.id } } })).response.status).toBe(200);

    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    await page.getByText('No endpoints yet').waitFor();
    expect((await server.client(project.apiKey).GET('/v1/pull-endpoints/{id}', { params: { path: { id: endpoint.id } } })).response.status).toBe(404);
    // Chromium logs each 4xx answer as a console error: the refused setting's 400 is the only one.
    expect(watch.errors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  });
});
