import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { parse } from 'yaml';
import { API_SPEC_PATH } from '../../src/app';
import { REDOC_SCRIPT_PATH } from '../../src/http/docs';
import { PROJECT_ROOT } from '../../src/paths';
import { launchChromium, watchPage } from '../support/browser';
import { startTestServer, type TestServer } from '../support/server';

// Rewritten only on request (`UPDATE_SCREENSHOT=1 npx jest test/docs`): the README shows it.
const SCREENSHOT = path.join(PROJECT_ROOT, 'docs', 'api-reference.png');

const specBytes = fs.readFileSync(API_SPEC_PATH);
const spec = parse(specBytes.toString('utf8')) as { paths: Record<string, Record<string, { operationId?: string; summary?: string }>> };
const summaries = Object.values(spec.paths).flatMap((item) =>
  Object.values(item).flatMap((operation) => (operation.operationId ? [operation.summary ?? `${operation.operationId} has no summary`] : [])),
);

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the API reference page', () => {
  it('renders every operation of openapi.yaml with nothing but the service, and logs no error', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const { requested, errors } = watchPage(page);

    await page.goto(`${server.baseUrl}/`);
    expect(page.url()).toBe(`${server.baseUrl}/docs`);
    // Redoc renders every operation into the page at once, each under an <h2> of its summary.
    // A locator, not waitForFunction: a string predicate is eval'd in the page, and the page's CSP
    // (no 'unsafe-eval') refused that once in CI.
    await page.locator('h2').nth(summaries.length - 1).waitFor();
    await page.waitForLoadState('networkidle');

    const headings = (await page.locator('h2').allTextContents()).map((text) => text.trim());
    expect(summaries.length).toBeGreaterThanOrEqual(28);
    expect(headings).toEqual(expect.arrayContaining(summaries));
    // A blob: URL (Redoc's search worker) has the page's origin.
    expect(requested.filter((url) => new URL(url).origin !== server.baseUrl)).toEqual([]);
    expect(requested).toContain(`${server.baseUrl}/openapi.json`);
    expect(errors).toEqual([]);

    if (process.env.UPDATE_SCREENSHOT === '1') {
      await page.locator('[data-item-id="tag/Pull-events"]').click();
      await page.locator('[data-item-id="tag/Pull-events/operation/listPullEvents"]').click();
      await page.waitForTimeout(500);
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
    }
    await page.close();
  });
});

describe('the contract the service serves', () => {
  it('answers openapi.yaml byte for byte, and a 304 to its ETag', async () => {
    const response = await fetch(`${server.baseUrl}/openapi.yaml`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/yaml');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(Buffer.from(await response.arrayBuffer()).equals(specBytes)).toBe(true);

    // fetch() adds `Cache-Control: no-cache` to a conditional request unless it has one, and that
    // asks for a full answer; a browser revalidating its copy sends neither.
    const etag = response.headers.get('etag')!;
    const again = await fetch(`${server.baseUrl}/openapi.yaml`, { headers: { 'If-None-Match': etag, 'Cache-Control': 'max-age=0' } });
    expect(again.status).toBe(304);
  });

  it('answers the same document as JSON at /openapi.json', async () => {
    const response = await fetch(`${server.baseUrl}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual(spec);
  });

  it('redirects / to /docs', async () => {
    const response = await fetch(`${server.baseUrl}/`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/docs');
  });

  it('serves the page under a CSP of its own origin, and Redoc under a versioned URL cached for a year', async () => {
    const page = await fetch(`${server.baseUrl}/docs`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self';/);
    expect(await page.text()).toContain(`<script src="${REDOC_SCRIPT_PATH}"></script>`);

    const script = await fetch(`${server.baseUrl}${REDOC_SCRIPT_PATH}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${server.baseUrl}/docs/redoc-0.0.1.js`)).status).toBe(404);
  });
});
