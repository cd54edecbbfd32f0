import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// `npm run typecheck` checks the console with browser types through console/tsconfig.json, so a
// spec change that breaks the console fails it. An `exclude` inherited from the root config once
// left every console/src file out of that check, unnoticed: this keeps them in.

const ROOT = path.resolve(__dirname, '../..');
const CONSOLE_SRC = path.join(ROOT, 'console/src');

function filesOf(config: string): string[] {
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  };
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, config), {}, host);
  if (!parsed || parsed.errors.length > 0) throw new Error(`${config}: ${parsed?.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('; ')}`);
  return parsed.fileNames.map((file) => path.resolve(file));
}

it('console/tsconfig.json checks every file of console/src, and the root config (Node types) none', () => {
  const sources = fs.readdirSync(CONSOLE_SRC).filter((name) => name.endsWith('.ts')).map((name) => path.join(CONSOLE_SRC, name));
  expect(sources.length).toBeGreaterThan(10);
  expect(filesOf('console/tsconfig.json')).toEqual(expect.arrayContaining(sources));
  expect(filesOf('tsconfig.json').filter((file) => file.startsWith(CONSOLE_SRC))).toEqual([]);
});
