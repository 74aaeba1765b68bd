/** The scope each client request needs; methods not listed need none beyond a valid principal. */
const SCOPES: Readonly<Record<string, string>> = {
  'tools/call': 'tools:call',
  'resources/read': 'resources:read',
  'resources/subscribe': 'resources:read',
  'prompts/get': 'prompts:read',
  'completion/complete': 'prompts:read',
};

export function requiredScope(method: string): string | undefined {
  return SCOPES[method];
}

/** Every scope this gateway checks, for the protected-resource metadata. */
export const GATEWAY_SCOPES: readonly string[] = [...new Set(Object.values(SCOPES))];
