/**
 * Credentials in the shapes real ones have, made up at run time from a seeded generator, so
 * the repository holds no string a secret scanner (or GitHub push protection) would stop.
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A deterministic pseudo-random string over `alphabet` (xorshift32). */
export function randomString(length: number, seed = 1, alphabet = BASE62): string {
  let state = seed * 2654435761 || 1;
  let out = '';
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out += alphabet.charAt((state >>> 0) % alphabet.length);
  }
  return out;
}

const UPPER_B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64 = `${BASE62}+/`;
const B64URL = `${BASE62}-_`;

export const fake = {
  awsAccessKey: (seed = 1): string => `AKIA${randomString(16, seed, UPPER_B32)}`,
  awsSecretKey: (seed = 2): string => randomString(40, seed, B64),
  githubToken: (seed = 3): string => `ghp_${randomString(36, seed)}`,
  githubPat: (seed = 4): string => `github_pat_${randomString(22, seed)}_${randomString(59, seed + 1)}`,
  slackToken: (seed = 5): string =>
    `xoxb-${randomString(12, seed, '0123456789')}-${randomString(24, seed + 1)}`,
  stripeKey: (seed = 6): string => `${'sk'}_live_${randomString(24, seed)}`,
  googleKey: (seed = 7): string => `AIza${randomString(35, seed, B64URL)}`,
  npmToken: (seed = 8): string => `npm_${randomString(36, seed)}`,
  jwt: (seed = 9): string => {
    const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: `user-${seed}`, iat: 1_700_000_000 })}.${randomString(43, seed, B64URL)}`;
  },
  azureKey: (seed = 10): string => `${randomString(86, seed, B64)}==`,
  generic: (seed = 11, length = 40): string => randomString(length, seed),
  pemPrivateKey: (seed = 12): string => {
    const body = randomString(256, seed, B64)
      .replace(/(.{64})/g, '$1\n')
      .trim();
    return `-----BEGIN ${'PRIVATE'} KEY-----\n${body}\n-----END ${'PRIVATE'} KEY-----`;
  },
};
