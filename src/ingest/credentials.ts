// POS credentials at rest: AES-256-GCM with a key from config (POS_CREDENTIALS_KEY). Sealed text
// is `v1.<iv>.<tag>.<ciphertext>` in base64url; a wrong key or a changed byte fails to open
// rather than yielding garbage. Opened secrets live in memory only and are never logged.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

export const squareCredentials = z.object({ accessToken: z.string().min(1) });
export const lightspeedCredentials = z.union([
  z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1), refreshToken: z.string().min(1) }),
  z.object({ apiKey: z.string().min(1) }),
]);
export type SquareCredentials = z.infer<typeof squareCredentials>;
export type LightspeedCredentials = z.infer<typeof lightspeedCredentials>;

export class CredentialSealer {
  private readonly key: Buffer;

  constructor(base64Key: string) {
    this.key = Buffer.from(base64Key, 'base64');
    if (this.key.length !== 32) throw new Error('POS credentials key must be 32 bytes');
  }

  seal(value: object): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  open<T>(sealed: string, schema: z.ZodType<T>): T {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('Sealed credentials are malformed');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    let plain: string;
    try {
      plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('Sealed credentials cannot be opened with this POS_CREDENTIALS_KEY');
    }
    const parsed = schema.safeParse(JSON.parse(plain));
    // The issues name fields only: the values are secrets.
    if (!parsed.success) throw new Error(`Stored credentials are incomplete: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
    return parsed.data;
  }
}
