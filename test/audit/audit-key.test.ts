import { generateKeyPairSync } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_KEY_ENV, loadAuditKey, parsePublicKey } from '../../src/audit/audit-key.ts';
import { SEED, signingKey, tempDir } from './audit-fixture.ts';

describe('the audit signing key', () => {
  it('is generated on first start into a 0600 key file with its public half beside it, then reused', async () => {
    await using tmp = await tempDir();
    const keyFile = join(tmp.dir, 'keys', 'audit.key');
    const first = await loadAuditKey({ env: {}, keyFile });
    expect(first.source).toBe('generated');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(keyFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(parsePublicKey(await readFile(`${keyFile}.pub`, 'utf8')).keyId).toBe(first.publicKey.keyId);

    const again = await loadAuditKey({ env: {}, keyFile });
    expect(again.source).toBe('file');
    expect(again.publicKey.keyId).toBe(first.publicKey.keyId);
  });

  it(`${AUDIT_KEY_ENV} may be a base64 seed or a PKCS#8 PEM, and wins over the key file`, async () => {
    await using tmp = await tempDir();
    const keyFile = join(tmp.dir, 'audit.key');
    const fromSeed = await loadAuditKey({ env: { [AUDIT_KEY_ENV]: SEED }, keyFile });
    expect(fromSeed).toMatchObject({ source: 'env', publicKey: { keyId: signingKey().publicKey.keyId } });
    const pem = signingKey().privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const fromPem = await loadAuditKey({ env: { [AUDIT_KEY_ENV]: pem }, keyFile });
    expect(fromPem.publicKey.keyId).toBe(fromSeed.publicKey.keyId);
    await expect(stat(keyFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a bad key is refused without echoing it', async () => {
    await using tmp = await tempDir();
    const keyFile = join(tmp.dir, 'audit.key');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    for (const value of ['c2hvcnQ=', 'not a key at all', rsa as string]) {
      const failure = await loadAuditKey({ env: { [AUDIT_KEY_ENV]: value }, keyFile }).catch(
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'AUDIT_KEY_INVALID' });
      expect((failure as Error).message).not.toContain(value.slice(0, 20));
    }
  });

  it('a key file others can read is refused', async () => {
    await using tmp = await tempDir();
    const keyFile = join(tmp.dir, 'audit.key');
    await writeFile(keyFile, signingKey().privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await chmod(keyFile, 0o644);
    await expect(loadAuditKey({ env: {}, keyFile })).rejects.toMatchObject({
      code: 'AUDIT_KEY_INVALID',
      message: expect.stringContaining('chmod 600') as unknown,
    });
  });
});
