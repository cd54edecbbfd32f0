import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { curlForApi, curlForReplay } from '../../console/src/curl';
import { prettyJson } from '../../console/src/json';

describe("the console's JSON view", () => {
  it('re-indents JSON without touching a token: big numbers, decimals, escapes and key order stay', () => {
    const text = '{"b":12345678901234567890,"a":1.50,"s":"q\\"{[,:]}\\\\","e":{ },"l":[],"n":[1,{"x":null}]}';
    expect(prettyJson(text)).toBe(
      ['{', '  "b": 12345678901234567890,', '  "a": 1.50,', '  "s": "q\\"{[,:]}\\\\",', '  "e": {},', '  "l": [],', '  "n": [', '    1,', '    {', '      "x": null', '    }', '  ]', '}'].join('\n'),
    );
    expect(JSON.parse(prettyJson(text)!)).toEqual(JSON.parse(text));
  });

  it('answers null for text that is not JSON, and keeps a bare value as it is', () => {
    expect(prettyJson('a=1&b=2')).toBeNull();
    expect(prettyJson('{"a":')).toBeNull();
    expect(prettyJson(' "x y" ')).toBe('"x y"');
  });
});

describe("the console's curl commands", () => {
  it('replays a webhook with its exact body and headers when run by a shell, quotes and all', async () => {
    const body = `{"note":"it's \\"quoted\\" $HOME \`id\` \\\\ done","n":1}`;
    const got = await new Promise<{ body: string; headers: http.IncomingHttpHeaders; url: string }>((resolve, reject) => {
      const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          res.end('ok');
          server.close();
          resolve({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, url: req.url ?? '' });
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const command = curlForReplay(
          { headers: { 'content-type': 'application/json', 'x-signature': "t=1,v1=a'b", host: 'example.com', 'content-length': '3' }, query_string: 'a=1&b=%20', content_type: 'application/json' },
          body,
        );
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
        promisify(execFile)('bash', ['-c', `${command} --silent --show-error`], { env: { ...process.env, WEBHOOK_URL: url } }).catch(reject);
      });
    });
    expect(got.body).toBe(body);
    expect(got.url).toBe('/hook?a=1&b=%20');
    expect(got.headers['x-signature']).toBe("t=1,v1=a'b");
    expect(got.headers['content-type']).toBe('application/json');
    // curl sets these itself, for the request it sends.
    expect(got.headers.host).toMatch(/^127\.0\.0\.1:/);
    expect(got.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('reads an event with the API key from the environment, never a key of its own', () => {
    expect(curlForApi('http://localhost:3000', 'e1', 'v1')).toBe(`curl -H "Authorization: Bearer $PULL_EVENTS_API_KEY" 'http://localhost:3000/v1/pull-endpoints/e1/events/v1?preview=true'`);
  });
});
