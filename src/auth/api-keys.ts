import { randomBytes } from 'node:crypto';
import { randomSecret, sha256Hex } from './secrets';

const PREFIX_CHARS = 8;

export interface NewApiKey {
  /** The whole key: shown once, never stored. */
  key: string;
  /** A short, non-secret handle for listing and revoking the key, e.g. `pek_a1b2c3d4`. */
  prefix: string;
  hash: string;
}

export const hashApiKey = sha256Hex;

export function generateApiKey(): NewApiKey {
  const prefix = `pek_${randomBytes(PREFIX_CHARS).toString('hex').slice(0, PREFIX_CHARS)}`;
  const key = `${prefix}_${randomSecret()}`;
  return { key, prefix, hash: hashApiKey(key) };
}
