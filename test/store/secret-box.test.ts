import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { generateMasterKey, loadMasterKeys, parseMasterKey } from '../../src/store/secrets/master-keys.ts';
import { createSecretBox } from '../../src/store/secrets/secret-box.ts';

function refusal(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

const ring = (current = generateMasterKey(), ...previous: string[]) => ({
  current: parseMasterKey(current, 'current'),
  previous: previous.map((key) => parseMasterKey(key, 'previous')),
});

describe('secret box', () => {
  it('seals to v1:<keyId>:<iv>:<tag>:<ciphertext> and opens back, with a fresh IV each time', () => {
    const box = createSecretBox(ring());
    const one = box.seal('hunter2', 'acme/pg/env DATABASE_URL');
    const two = box.seal('hunter2', 'acme/pg/env DATABASE_URL');
    expect(one).toMatch(
      new RegExp(`^v1:${box.currentKeyId}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$`),
    );
    expect(one).not.toBe(two);
    expect(one).not.toContain('hunter2');
    expect(box.open(one, 'acme/pg/env DATABASE_URL')).toBe('hunter2');
    expect(box.keyIdOf(one)).toBe(box.currentKeyId);
    expect(box.open(box.seal('', 'c'), 'c')).toBe('');
  });

  it('a value opened in another context, or tampered with, is refused without its content', () => {
    const box = createSecretBox(ring());
    const sealed = box.seal('hunter2', 'acme/pg/env A');
    expect(refusal(() => box.open(sealed, 'other/pg/env A')).code).toBe('SECRET_UNREADABLE');
    const parts = sealed.split(':');
    const body = Buffer.from(parts[4] ?? '', 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    parts[4] = body.toString('base64url');
    const error = refusal(() => box.open(parts.join(':'), 'acme/pg/env A'));
    expect(error.code).toBe('SECRET_UNREADABLE');
    expect(error.message).not.toContain('hunter2');
    expect(refusal(() => box.open('plaintext', 'c')).code).toBe('SECRET_UNREADABLE');
  });

  it('previous keys open old values; an unknown key id is named in the refusal', () => {
    const oldKey = generateMasterKey();
    const old = createSecretBox(ring(oldKey));
    const sealed = old.seal('v', 'c');
    const rotated = createSecretBox(ring(generateMasterKey(), oldKey));
    expect(rotated.open(sealed, 'c')).toBe('v');
    expect(rotated.keyIdOf(rotated.seal('v', 'c'))).toBe(rotated.currentKeyId);
    const stranger = createSecretBox(ring());
    expect(refusal(() => stranger.open(sealed, 'c')).message).toContain(old.currentKeyId);
  });

  it('a fingerprint is 8 hex digits, stable per value and scope, and keyed by the master key', () => {
    const key = generateMasterKey();
    const box = createSecretBox(ring(key));
    expect(box.fingerprint('v', 'acme')).toMatch(/^[0-9a-f]{8}$/);
    expect(createSecretBox(ring(key)).fingerprint('v', 'acme')).toBe(box.fingerprint('v', 'acme'));
    expect(box.fingerprint('v', 'other')).not.toBe(box.fingerprint('v', 'acme'));
    expect(box.fingerprint('w', 'acme')).not.toBe(box.fingerprint('v', 'acme'));
    expect(createSecretBox(ring()).fingerprint('v', 'acme')).not.toBe(box.fingerprint('v', 'acme'));
  });
});

describe('master keys', () => {
  it('MCPLANE_MASTER_KEY gives the current key and MCPLANE_MASTER_KEY_PREVIOUS the old ones', () => {
    const [a, b, c] = [generateMasterKey(), generateMasterKey(), generateMasterKey()];
    const keys = loadMasterKeys({ MCPLANE_MASTER_KEY: a, MCPLANE_MASTER_KEY_PREVIOUS: `${b}, ${c},${a}` });
    expect(keys?.current.id).toBe(parseMasterKey(a, 'a').id);
    expect(keys?.previous.map((key) => key.id)).toEqual([
      parseMasterKey(b, 'b').id,
      parseMasterKey(c, 'c').id,
    ]);
    expect(loadMasterKeys({})).toBeUndefined();
    expect(loadMasterKeys({ MCPLANE_MASTER_KEY: '' })).toBeUndefined();
  });

  it('a key file holds the current key first and previous keys after, with comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-keys-'));
    try {
      const [a, b] = [generateMasterKey(), generateMasterKey()];
      const file = join(dir, 'keys');
      writeFileSync(file, `# current\n${a}\n\n# old\n${b}\n`);
      const keys = loadMasterKeys({ MCPLANE_MASTER_KEY_FILE: file });
      expect(keys?.current.id).toBe(parseMasterKey(a, 'a').id);
      expect(keys?.previous.map((key) => key.id)).toEqual([parseMasterKey(b, 'b').id]);
      writeFileSync(file, '# nothing\n');
      expect(refusal(() => loadMasterKeys({ MCPLANE_MASTER_KEY_FILE: file })).message).toContain(
        'holds no key',
      );
      expect(
        refusal(() => loadMasterKeys({ MCPLANE_MASTER_KEY_FILE: join(dir, 'absent') })).message,
      ).toContain('ENOENT');
      expect(
        refusal(() => loadMasterKeys({ MCPLANE_MASTER_KEY: a, MCPLANE_MASTER_KEY_FILE: file })).message,
      ).toContain('not both');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a key that is not 32 bytes of base64 is refused without echoing it', () => {
    const short = Buffer.alloc(16, 7).toString('base64');
    const error = refusal(() => loadMasterKeys({ MCPLANE_MASTER_KEY: short }));
    expect(error.code).toBe('MASTER_KEY_INVALID');
    expect(error.message).toContain('32 bytes, not 16');
    expect(error.message).not.toContain(short);
    expect(refusal(() => loadMasterKeys({ MCPLANE_MASTER_KEY: 'not base64 !' })).message).toContain(
      'not base64',
    );
    expect(
      refusal(() => loadMasterKeys({ MCPLANE_MASTER_KEY_PREVIOUS: generateMasterKey() })).message,
    ).toContain('without a current');
  });

  it('a base64url key is the same key as its base64 form', () => {
    const key = generateMasterKey();
    const url = Buffer.from(key, 'base64').toString('base64url');
    expect(parseMasterKey(url, 'k').id).toBe(parseMasterKey(key, 'k').id);
  });
});
