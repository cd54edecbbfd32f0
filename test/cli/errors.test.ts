import { jsonError, runCli } from './run';

const missing = '01935abc-def0-7123-4567-890abcdef012';

it('reports a project that does not exist as NOT_FOUND, one JSON document on stderr, exit 1', async () => {
  const result = await runCli(['key', 'list', '--project', missing, '--json']);
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(jsonError(result)).toEqual({ error: { code: 'NOT_FOUND', message: `project ${missing} not found` } });
});

it('reports an endpoint that does not exist as ENDPOINT_NOT_FOUND, as the API does', async () => {
  const result = await runCli(['events', 'seed', '--endpoint', missing, '--count', '1', '--json']);
  expect(result.code).toBe(1);
  expect(jsonError(result).error.code).toBe('ENDPOINT_NOT_FOUND');
});

it('reports usage errors as INVALID_REQUEST in JSON with exit 2, and nothing else on stderr', async () => {
  const [missingOption, badArgument, unknownCommand] = await Promise.all([
    runCli(['key', 'create', '--json']),
    runCli(['key', 'list', '--project', 'nope', '--json']),
    runCli(['projects', 'list', '--json']),
  ]);
  expect([missingOption.code, badArgument.code, unknownCommand.code]).toEqual([2, 2, 2]);
  expect(jsonError(missingOption)).toEqual({
    error: { code: 'INVALID_REQUEST', message: "required option '--project <id>' not specified" },
  });
  expect(jsonError(badArgument)).toEqual({
    error: { code: 'INVALID_REQUEST', message: "option '--project <id>' argument 'nope' is invalid. must be a UUID" },
  });
  expect(jsonError(unknownCommand).error).toEqual({
    code: 'INVALID_REQUEST',
    message: expect.stringMatching(/^unknown command 'projects' \(Did you mean project\?\)$/),
  });
});

it('reports a misspelt option as unknown, not as the required option it hides', async () => {
  const [plain, suggested, json] = await Promise.all([
    runCli(['project', 'create', '--projct', 'x']),
    runCli(['key', 'create', '--projct', 'x']),
    runCli(['endpoint', 'create', '--projct', 'x', '--name', 'y', '--json']),
  ]);
  expect(plain.code).toBe(2);
  expect(plain.stderr).toMatch(/^error: unknown option '--projct'\n/);
  expect(plain.stderr).not.toContain('required option');
  expect(suggested.stderr).toMatch(/^error: unknown option '--projct'\n\(Did you mean --project\?\)\n/);
  expect(jsonError(json)).toEqual({
    error: { code: 'INVALID_REQUEST', message: "unknown option '--projct' (Did you mean --project?)" },
  });
});

it('reports a database it cannot reach as SERVICE_UNAVAILABLE, exit 1', async () => {
  const env = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' };
  const [json, plain] = await Promise.all([runCli(['project', 'list', '--json'], env), runCli(['project', 'list'], env)]);
  expect(json.code).toBe(1);
  expect(jsonError(json).error).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('database is not reachable') });
  expect(plain.code).toBe(1);
  expect(plain.stderr).toMatch(/^error: database is not reachable: .*ECONNREFUSED/);
});
