import fs from 'node:fs';
import path from 'node:path';

/** The folder holding package.json, whether this runs from src/ (tsx) or from build/ (compiled). */
function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

export const PROJECT_ROOT = findProjectRoot(__dirname);
export const API_SPEC_PATH = path.join(PROJECT_ROOT, 'openapi.yaml');
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'prisma', 'migrations');
/** The web console as Vite builds it (console/vite.config.mts), served at /console. */
export const CONSOLE_DIR = path.join(PROJECT_ROOT, 'build', 'console');
