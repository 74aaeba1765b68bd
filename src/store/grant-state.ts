/** Whether a grant is in force at a given moment. */
import type { Grant } from './records.ts';

export type GrantState = 'active' | 'revoked' | 'expired';

export function grantState(grant: Pick<Grant, 'revokedAt' | 'expiresAt'>, now: number): GrantState {
  if (grant.revokedAt !== null) return 'revoked';
  if (grant.expiresAt !== null && now >= Date.parse(grant.expiresAt)) return 'expired';
  return 'active';
}
