/**
 * Which tenant server values count as secret, beyond those the caller marks `{ secret }`.
 * Erring towards secret costs only a masked value in the admin API; erring the other way stores
 * a credential in plaintext, so the rules are broad. Documented in docs/store.md.
 */

/**
 * An env name (or a `--flag` name) that holds a credential: anything mentioning a secret,
 * token, password, key, credential, auth, private, session, cookie, certificate, DSN or
 * connection string, and anything ending in URL or URI (database and broker URLs carry
 * passwords).
 */
export const SECRET_NAME =
  /SECRET|TOKEN|PASS|PWD|KEY|CREDENTIAL|AUTH|PRIVATE|SESSION|COOKIE|CERT|DSN|CONNECTION|(^|_)UR[LI]$/i;

/** `scheme://user:password@…`: a URL carrying a password. */
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/?#\s@]*:[^/?#\s@]*@/i;
/** A query parameter whose name looks secret, e.g. `?password=` or `&sslkey=`. */
const SECRET_QUERY_PARAM = /[?&]([^=&#\s]+)=/g;

export function isSecretEnvName(name: string): boolean {
  return SECRET_NAME.test(name);
}

function hasSecretQueryParam(value: string): boolean {
  if (!value.includes('://')) return false;
  for (const match of value.matchAll(SECRET_QUERY_PARAM)) {
    if (SECRET_NAME.test(match[1] ?? '')) return true;
  }
  return false;
}

/** `--token=x` / `-password=x`: the flag name before `=`, when it looks secret. */
function isSecretFlagWithValue(value: string): boolean {
  const match = /^--?([A-Za-z][\w-]*)=/.exec(value);
  return match !== null && SECRET_NAME.test((match[1] ?? '').replace(/-/g, '_'));
}

/** `--token` followed by its value as the next argument. */
function isSecretFlag(value: string | undefined): boolean {
  const match = value === undefined ? null : /^--?([A-Za-z][\w-]*)$/.exec(value);
  return match !== null && SECRET_NAME.test((match[1] ?? '').replace(/-/g, '_'));
}

/**
 * Whether argument `index` of `args` is secret by rule: a URL with a password or a secret-named
 * query parameter, a `--secret-flag=value`, or the value following a `--secret-flag`.
 */
export function isSecretArg(args: readonly string[], index: number): boolean {
  const value = args[index] ?? '';
  return (
    URL_WITH_PASSWORD.test(value) ||
    hasSecretQueryParam(value) ||
    isSecretFlagWithValue(value) ||
    isSecretFlag(args[index - 1])
  );
}
