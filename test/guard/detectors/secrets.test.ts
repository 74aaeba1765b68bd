import { describe, expect, it } from 'vitest';
import { applyRedactions } from '../../../src/guard/detectors/detector.ts';
import { looksRandom } from '../../../src/guard/detectors/entropy.ts';
import { createSecretsDetector } from '../../../src/guard/detectors/secrets.ts';
import { generateApiKey } from '../../../src/identity/api-key-format.ts';
import { fake, randomString } from '../support/fake-secrets.ts';

const entropy = { threshold: 4, minLength: 32 };
const detector = createSecretsDetector({ entropy });
const kinds = (text: string): string[] => detector.scan(text).map((hit) => hit.kind);
const redact = (text: string): string => applyRedactions(text, detector.scan(text));

describe('secrets', () => {
  it.each([
    ['aws-access-key', `key id ${fake.awsAccessKey()} in use`],
    ['aws-secret-key', `aws_secret_access_key = ${fake.awsSecretKey()}`],
    ['aws-secret-key', `"SecretAccessKey": "${fake.awsSecretKey(9)}"`],
    ['github-token', `token: ${fake.githubToken()}`],
    ['github-token', `GITHUB_TOKEN=${fake.githubPat()}`],
    ['slack-token', `SLACK=${fake.slackToken()}`],
    ['stripe-key', `stripe ${fake.stripeKey()}`],
    ['google-api-key', `key=${fake.googleKey()}&q=1`],
    ['npm-token', `//registry.npmjs.org/:_authToken=${fake.npmToken()}`],
    ['jwt', `Authorization: Bearer ${fake.jwt()}`],
    [
      'azure-key',
      `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${fake.azureKey()};EndpointSuffix=core.windows.net`,
    ],
    ['private-key', `here:\n${fake.pemPrivateKey()}\nend`],
    ['url-password', 'DATABASE_URL=postgres://app:Tr0ub4dor-3@db.internal:5432/app'],
    ['high-entropy', `session=${fake.generic()}`],
  ])('finds %s', (kind, text) => {
    expect(kinds(text)).toContain(kind);
  });

  it('redacts a secret as [redacted:<kind>] and leaves the text around it', () => {
    const token = fake.githubToken();
    expect(redact(`use ${token} here`)).toBe('use [redacted:github-token] here');
    expect(redact(`AccountKey=${fake.azureKey()};x=y`)).toBe('AccountKey=[redacted:azure-key];x=y');
  });

  it('names a GCP service-account key as such', () => {
    const pem = fake.pemPrivateKey().replace(/\n/g, '\\n');
    const json = `{"type":"service_account","private_key_id":"abc","private_key":"${pem}\\n","client_email":"x@p.iam.gserviceaccount.com"}`;
    expect(kinds(json)).toEqual(['gcp-service-account-key']);
    expect(redact(json)).toContain('"private_key":"[redacted:gcp-service-account-key]\\n"');
  });

  it('redacts an unterminated private key up to the end of its body', () => {
    const truncated = fake.pemPrivateKey().split('\n').slice(0, 3).join('\n');
    expect(redact(`${truncated}\n...`)).toBe('[redacted:private-key]...');
  });

  it('finds mcplane API keys, and only those whose checksum holds', () => {
    const { key } = generateApiKey();
    expect(kinds(`MCPLANE_API_KEY=${key}`)).toEqual(['mcplane-api-key']);
    const forged = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(kinds(`MCPLANE_API_KEY=${forged}`)).toEqual([]);
  });

  it("does not report AWS's documented example keys", () => {
    expect(detector.scan('AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toEqual([]);
  });

  it('does not report placeholder passwords in URLs', () => {
    expect(detector.scan('postgres://user:password@localhost/db and https://u:${PASS}@h/')).toEqual([]);
  });

  it('does not report UUIDs, git hashes, hex digests or SRI hashes', () => {
    const hex = randomString(64, 3, '0123456789abcdef');
    const text = [
      'id 7c9e6679-7425-40de-944b-e07fc1f90ae7',
      `commit ${hex.slice(0, 40)}`,
      `sha256 ${hex}`,
      'integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"',
    ].join('\n');
    expect(detector.scan(text)).toEqual([]);
  });

  it('does not report identifiers, paths, public keys, certificates or data URIs', () => {
    const body = randomString(
      300,
      5,
      `${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'}+/`,
    );
    const text = [
      'AbstractSingletonProxyFactoryBeanRegistry getUserAccountSettingsForTenantWithDefaults',
      '/usr/local/lib/node_modules/typescript/lib/lib.es2023.collection.d.ts',
      `-----BEGIN PUBLIC KEY-----\n${body.replace(/(.{64})/g, '$1\n')}\n-----END PUBLIC KEY-----`,
      `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`,
      `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${body.slice(0, 43)} ci@host`,
      `data:image/png;base64,${body}`,
      'request_id=01HZX3K4Q9V2B7N8M5C6D1F0GH status=ok',
    ].join('\n');
    expect(detector.scan(text)).toEqual([]);
  });

  it('never puts the secret into the detail', () => {
    const token = fake.githubToken();
    for (const hit of detector.scan(`a ${token} b ${fake.generic()}`)) {
      expect(hit.detail).not.toContain(token.slice(4, 12));
    }
  });

  it('calls random base62 tokens of 40 characters random, and readable identifiers not', () => {
    // A token without a digit is not reported (camelCase names have none): (52/62)^40, 0.1%.
    let random = 0;
    for (let seed = 1; seed <= 1000; seed++) if (looksRandom(randomString(40, seed), entropy)) random++;
    expect(random).toBeGreaterThanOrEqual(990);
    expect(looksRandom('ThisIsAVeryLongIdentifierName1234', entropy)).toBe(false);
    expect(looksRandom('ERROR_CONNECTION_REFUSED_ON_PORT_5432_RETRY', entropy)).toBe(false);
  });

  it('takes its threshold and minimum length from the options', () => {
    const token = `tok=${fake.generic(11, 24)}`;
    expect(kinds(token)).toEqual([]);
    const looser = createSecretsDetector({ entropy: { threshold: 3.5, minLength: 20 } });
    expect(looser.scan(token).map((hit) => hit.kind)).toEqual(['high-entropy']);
  });
});
