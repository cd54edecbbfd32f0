import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets the service must read back (an endpoint's HMAC secret) are stored encrypted with
 * AES-256-GCM. A stored value names the key that sealed it, `v1.<key id>.<iv>.<tag>.<ciphertext>`
 * (base64url), so keys can be rotated: new values are sealed with the current key, and values
 * sealed with an older key open as long as that key is still configured.
 */
export interface SecretBox {
  readonly keyId: string;
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Parses `SECRET_ENCRYPTION_KEY`: 32 bytes in base64 (or 64 hex digits), optionally prefixed with
 * an id and a colon (`2026-12:<base64>`). Without an id, the id is derived from the key.
 */
export function parseEncryptionKey(value: string, name = 'SECRET_ENCRYPTION_KEY'): EncryptionKey {
  const colon = value.lastIndexOf(':');
  const id = colon > 0 ? value.slice(0, colon) : undefined;
  const material = colon > 0 ? value.slice(colon + 1) : value;
  const key = /^[0-9a-fA-F]{64}$/.test(material) ? Buffer.from(material, 'hex') : Buffer.from(material, 'base64');
  if (key.length !== 32) {
    throw new Error(`${name} must be 32 random bytes in base64 or hex (e.g. \`openssl rand -base64 32\`), optionally as <id>:<key>`);
  }
  if (id !== undefined && !KEY_ID.test(id)) throw new Error(`${name}: the key id must be 1-32 of A-Z a-z 0-9 _ -`);
  return { id: id ?? createHash('sha256').update(key).digest('hex').slice(0, 8), key };
}

export function generateEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

/** A box sealing with `current`, opening values sealed with it or any of `previous`. */
export function createSecretBox(current: EncryptionKey, previous: EncryptionKey[] = []): SecretBox {
  const keys = new Map([...previous, current].map((entry) => [entry.id, entry.key]));
  return {
    keyId: current.id,
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', current.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
    },
    open(sealed) {
      const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
      if (version !== 'v1' || !keyId || iv === undefined || tag === undefined || ciphertext === undefined) {
        throw new Error('sealed secret has an unknown format');
      }
      const key = keys.get(keyId);
      if (!key) throw new Error(`secret was sealed with encryption key "${keyId}", which is not configured`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

/** For code that creates endpoints without secrets (the CLI, seeding): it refuses to seal. */
export const noSecretBox: SecretBox = {
  keyId: 'none',
  seal() {
    throw new Error('storing an HMAC secret needs SECRET_ENCRYPTION_KEY; use the API');
  },
  open() {
    throw new Error('reading an HMAC secret needs SECRET_ENCRYPTION_KEY');
  },
};
