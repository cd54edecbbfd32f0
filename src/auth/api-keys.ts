import { createHash, randomBytes } from 'node:crypto';

const PREFIX_CHARS = 8;

export interface NewApiKey {
  /** The whole key: shown once, never stored. */
  key: string;
  /** A short, non-secret handle for listing and revoking the key, e.g. `pek_a1b2c3d4`. */
  prefix: string;
  hash: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): NewApiKey {
  const prefix = `pek_${randomBytes(PREFIX_CHARS).toString('hex').slice(0, PREFIX_CHARS)}`;
  const key = `${prefix}_${randomBytes(24).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}
