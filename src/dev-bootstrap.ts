import fs from 'node:fs';
import path from 'node:path';
import { createSecretBox, generateEncryptionKey, parseEncryptionKey, type SecretBox } from './auth/encryption';
import { StartupError, type Config } from './config';
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
    `Created a local project and API key (shown once; also in ${path.join(path.relative(process.cwd(), dataDir) || '.', DEV_KEY_FILE)}):`,
    `  project id: ${project.id}`,
    `  API key:    ${apiKey.key}`,
  ].join('\n');
}

export const DEV_SECRET_KEY_FILE = 'secret-encryption-key';

/**
 * The box that seals HMAC secrets. Its key is SECRET_ENCRYPTION_KEY; on the embedded database
 * without it, a key is generated once into `<dataDir>/secret-encryption-key` (mode 0600), as the
 * dev API key is. On a real database a missing key is refused: secrets sealed with a key nobody
 * kept could never be opened again.
 */
export function loadSecretBox(config: Pick<Config, 'secretEncryptionKey' | 'secretEncryptionOldKeys' | 'databaseUrl' | 'dataDir'>): SecretBox {
  const old = config.secretEncryptionOldKeys.map((key) => parseEncryptionKey(key, 'SECRET_ENCRYPTION_OLD_KEYS'));
  if (config.secretEncryptionKey) return createSecretBox(parseEncryptionKey(config.secretEncryptionKey), old);
  if (config.databaseUrl) {
    throw new StartupError(
      'SECRET_ENCRYPTION_KEY is not set. With DATABASE_URL the service needs a key to encrypt HMAC secrets at rest: ' +
        'set SECRET_ENCRYPTION_KEY to 32 random bytes in base64 (`openssl rand -base64 32`), the same on every replica, and keep it safe.',
    );
  }
  const file = path.join(config.dataDir, DEV_SECRET_KEY_FILE);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, `${generateEncryptionKey()}\n`, { mode: 0o600, flag: 'wx' });
  }
  return createSecretBox(parseEncryptionKey(fs.readFileSync(file, 'utf8').trim(), file), old);
}
