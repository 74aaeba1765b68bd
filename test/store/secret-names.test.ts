import { describe, expect, it } from 'vitest';
import { isSecretArg, isSecretEnvName } from '../../src/store/secrets/secret-names.ts';

describe('which values count as secret', () => {
  it.each([
    'DATABASE_URL',
    'POSTGRES_PASSWORD',
    'GITHUB_TOKEN',
    'OPENAI_API_KEY',
    'aws_secret_access_key',
    'SENTRY_DSN',
    'MONGODB_URI',
    'REDIS_URL',
    'URL',
    'BASIC_AUTH',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'TLS_CERT',
    'PGPASSFILE',
    'SESSION_COOKIE',
    'SQL_CONNECTION_STRING',
  ])('env %s is secret by name', (name) => {
    expect(isSecretEnvName(name)).toBe(true);
  });

  it.each(['LOG_LEVEL', 'PORT', 'NODE_ENV', 'REGION', 'READ_ONLY', 'CURLOPT_VERBOSE'])(
    'env %s is plain',
    (name) => {
      expect(isSecretEnvName(name)).toBe(false);
    },
  );

  it('an argument is secret when it carries a password, a secret query parameter or follows a secret flag', () => {
    const args = [
      'postgresql://app:pw@db.example:5432/app',
      'postgres://db.example/app',
      'https://api.example/v1?access_token=abc',
      'https://api.example/v1?page=2',
      '--api-key=abc',
      '--token',
      'abc',
      '--read-only',
      '/data',
    ];
    expect(args.map((_, index) => isSecretArg(args, index))).toEqual([
      true,
      false,
      true,
      false,
      true,
      false,
      true,
      false,
      false,
    ]);
  });
});
