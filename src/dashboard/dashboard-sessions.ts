/**
 * The dashboard's server-side sessions. The browser holds only a random session id in an
 * HttpOnly, SameSite=Strict cookie; the admin credential it logged in with stays here, in the
 * gateway's memory, and is never written into a page. Sessions end on logout, after
 * {@link IDLE_MS} without a request, or {@link MAX_AGE_MS} after login, and at a restart.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** What a session remembers between two readings of the gateway status (for rates). */
export type CallReading = { readonly at: number; readonly requests: number; readonly errors: number };

export type DashboardSession = {
  readonly id: string;
  /** The admin API key: the credential every admin API call of this session carries. */
  readonly key: string;
  /** The synchronizer token every state-changing request must carry. */
  readonly csrf: string;
  readonly role: 'platform-admin' | 'tenant-admin';
  /** A tenant admin's tenant; null for a platform admin. */
  readonly tenantId: string | null;
  readonly createdAt: number;
  lastSeen: number;
  lastCalls?: CallReading;
  /** A message for the next page (what the last change did), shown once. */
  flash?: string | undefined;
};

export const IDLE_MS = 30 * 60_000;
export const MAX_AGE_MS = 12 * 3_600_000;
/** Bounds the memory sessions take; the least recently used go first. */
const MAX_SESSIONS = 1_000;

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Compares two tokens in constant time (for the CSRF checks). */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export class DashboardSessions {
  readonly #sessions = new Map<string, DashboardSession>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  open(login: Pick<DashboardSession, 'key' | 'role' | 'tenantId'>): DashboardSession {
    const now = this.#now();
    const session: DashboardSession = {
      ...login,
      id: randomToken(),
      csrf: randomToken(),
      createdAt: now,
      lastSeen: now,
    };
    this.#sessions.set(session.id, session);
    while (this.#sessions.size > MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
    }
    return session;
  }

  /** The live session of this id, touched; undefined for an unknown or expired one. */
  find(id: string | undefined): DashboardSession | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    const now = this.#now();
    if (now - session.lastSeen > IDLE_MS || now - session.createdAt > MAX_AGE_MS) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    // Re-inserting keeps the map in least-recently-used order for the bound above.
    this.#sessions.delete(id);
    this.#sessions.set(id, session);
    return session;
  }

  close(id: string): void {
    this.#sessions.delete(id);
  }
}
