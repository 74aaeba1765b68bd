import { describe, expect, it } from 'vitest';
import { DashboardSessions, IDLE_MS, MAX_AGE_MS, sameToken } from '../../src/dashboard/dashboard-sessions.ts';
import { envLines } from '../../src/dashboard/pages/server-configs-page.ts';

const LOGIN = { key: 'mcpl_x', role: 'platform-admin', tenantId: null } as const;

describe('dashboard sessions', () => {
  it('a session is found by its id, and each has its own random id and CSRF token', () => {
    const sessions = new DashboardSessions();
    const one = sessions.open(LOGIN);
    const two = sessions.open(LOGIN);
    expect(sessions.find(one.id)).toBe(one);
    expect(one.id).not.toBe(two.id);
    expect(one.csrf).not.toBe(two.csrf);
    expect(one.id).toMatch(/^[\w-]{43}$/);
    expect(sessions.find('guess')).toBeUndefined();
    expect(sessions.find(undefined)).toBeUndefined();
  });

  it('a session ends after its idle time, however often it was used, after its maximum age, and at logout', () => {
    let now = 0;
    const sessions = new DashboardSessions(() => now);
    const idle = sessions.open(LOGIN);
    now += IDLE_MS + 1;
    expect(sessions.find(idle.id)).toBeUndefined();

    const busy = sessions.open(LOGIN);
    while (now < busy.createdAt + MAX_AGE_MS - IDLE_MS) {
      now += IDLE_MS - 1;
      expect(sessions.find(busy.id)).toBe(busy);
    }
    now = busy.createdAt + MAX_AGE_MS + 1;
    expect(sessions.find(busy.id)).toBeUndefined();

    const closed = sessions.open(LOGIN);
    sessions.close(closed.id);
    expect(sessions.find(closed.id)).toBeUndefined();
  });

  it('the number of sessions is bounded: the least recently used goes first', () => {
    const sessions = new DashboardSessions();
    const first = sessions.open(LOGIN);
    const second = sessions.open(LOGIN);
    sessions.find(first.id);
    // 1,001 sessions: one must go, and `first` was used after `second`.
    for (let i = 0; i < 999; i++) sessions.open(LOGIN);
    expect(sessions.find(second.id)).toBeUndefined();
    expect(sessions.find(first.id)).toBe(first);
  });

  it('tokens compare equal only when identical, including in length', () => {
    expect(sameToken('abc', 'abc')).toBe(true);
    expect(sameToken('abc', 'abd')).toBe(false);
    expect(sameToken('abc', 'abcd')).toBe(false);
    expect(sameToken(undefined, 'abc')).toBe(false);
    expect(sameToken('', undefined)).toBe(false);
  });
});

describe('server-config environment lines', () => {
  it('reads NAME=value lines, secrets as { secret }, and names the lines that are not', () => {
    expect(envLines('A=1\n\nB = two=2\r\n', false)).toEqual({ env: { A: '1', B: ' two=2' }, bad: [] });
    expect(envLines('TOKEN=s3cret', true)).toEqual({ env: { TOKEN: { secret: 's3cret' } }, bad: [] });
    expect(envLines('ok=1\nnot a line\n=x', false).bad).toEqual([2, 3]);
  });
});
