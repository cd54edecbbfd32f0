import fs from 'node:fs';
import path from 'node:path';
import type { Database } from './db/prisma';
import { countProjects, createProject } from './projects/repository';

export const DEV_KEY_FILE = 'dev-api-key';
export const DEV_PROJECT_FILE = 'dev-project-id';

/**
 * On the first start of an empty embedded database, creates a local project and API key so a
 * newcomer can call the API at once. The key is printed once and kept in `<dataDir>/dev-api-key`.
 */
export async function bootstrapDevProject(db: Database, dataDir: string): Promise<string | undefined> {
  if ((await countProjects(db)) > 0) return undefined;
  const { project, apiKey } = await createProject(db, 'local');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, DEV_KEY_FILE), `${apiKey.key}\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(dataDir, DEV_PROJECT_FILE), `${project.id}\n`);
  return [
    'Created a local project and API key (shown once; also in .data/dev-api-key):',
    `  project id: ${project.id}`,
    `  API key:    ${apiKey.key}`,
  ].join('\n');
}
