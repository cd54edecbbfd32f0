import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { CONSOLE_CSP, consoleRouter } from '../../src/http/console';
import { errorHandler, notFound } from '../../src/http/error-handler';
import { CONSOLE_DIR } from '../../src/paths';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
});

const get = (url: string) => fetch(`${server.baseUrl}${url}`);

describe('the console as the service serves it', () => {
  it('answers its page at /console and /console/ under a CSP of the service alone, revalidated on each load', async () => {
    for (const url of ['/console', '/console/']) {
      const page = await get(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect(CONSOLE_CSP).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self';/);
    expect(CONSOLE_CSP).not.toMatch(/unsafe|https?:|data:|blob:|\*/);
  });

  it('has nothing inline for the CSP to refuse, and caches its hashed assets for a year', async () => {
    const html = await (await get('/console')).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.map((a) => path.extname(a)).sort()).toEqual(['.css', '.js']);
    for (const asset of assets) {
      expect(asset).toMatch(/-[\w-]{8}\.(js|css)$/);
      const answer = await get(asset);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(answer.headers.get('content-type')).toMatch(asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
    }
    const icon = await get('/console/favicon.svg');
    expect([icon.status, icon.headers.get('cache-control')]).toEqual([200, 'no-cache']);
  });

  it('answers an asset it does not have with the API’s 404 envelope', async () => {
    const answer = await get('/console/assets/index-00000000.js');
    expect(answer.status).toBe(404);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('keeps the API key in sessionStorage: its code never touches localStorage or cookies', () => {
    const script = fs.readdirSync(path.join(CONSOLE_DIR, 'assets')).find((f) => f.endsWith('.js'))!;
    const code = fs.readFileSync(path.join(CONSOLE_DIR, 'assets', script), 'utf8');
    expect(code).toContain('sessionStorage');
    expect(code).not.toContain('localStorage');
    expect(code).not.toContain('document.cookie');
  });

  it('says how to build it when build/console is missing, and serves a build made while it runs', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'console-'));
    const app = express().use(consoleRouter(empty)).use(notFound).use(errorHandler);
    const listening = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}/console`;
      const answer = await fetch(url);
      expect(answer.status).toBe(404);
      expect(((await answer.json()) as { error: { message: string } }).error.message).toMatch(/npm run build/);

      fs.writeFileSync(path.join(empty, 'index.html'), '<!doctype html><title>built later</title>');
      const built = await fetch(`${url}/`);
      expect(built.status).toBe(200);
      expect(built.headers.get('cache-control')).toBe('no-cache');
      expect(await built.text()).toContain('built later');
    } finally {
      listening.close();
      fs.rmSync(empty, { recursive: true });
    }
  });
});
