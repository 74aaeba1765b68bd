/**
 * Whether a stored API key works at a given moment: the one definition the authenticator, the
 * admin API and rotation share. Suspension and revocation come first, then rotation's grace,
 * then expiry.
 */
import type { ApiKey } from './records.ts';

export type ApiKeyState = 'active' | 'suspended' | 'revoked' | 'rotated' | 'expired';

export function apiKeyState(
  key: Pick<ApiKey, 'status' | 'graceUntil' | 'expiresAt'>,
  now: number,
): ApiKeyState {
  if (key.status !== 'active') return key.status;
  if (key.graceUntil !== null && now >= Date.parse(key.graceUntil)) return 'rotated';
  if (key.expiresAt !== null && now >= Date.parse(key.expiresAt)) return 'expired';
  return 'active';
}
