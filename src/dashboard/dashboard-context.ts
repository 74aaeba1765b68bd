/** The types every dashboard page shares: its Hono env and what a page may use. */
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../log.ts';
import type { AdminCall, AdminFetch } from './admin-calls.ts';
import type { DashboardSession } from './dashboard-sessions.ts';

export type DashboardEnv = {
  Variables: { session: DashboardSession; api: AdminCall; flash: string | undefined };
};
export type DashboardApp = Hono<DashboardEnv>;
export type DashboardContext = Context<DashboardEnv>;

export type DashboardDeps = {
  readonly admin: AdminFetch;
  readonly log: Logger;
};

/** A form field as text ('' when absent or a file). */
export function field(form: Record<string, unknown>, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value.trim() : '';
}

/** Remembers a message for the next page this session sees (after a redirect). */
export function flash(c: DashboardContext, message: string): void {
  c.get('session').flash = message;
}

/** The status a page re-rendered with an admin API problem answers with. */
export function statusOf(problem: { readonly status: number } | undefined): ContentfulStatusCode {
  return (problem?.status ?? 200) as ContentfulStatusCode;
}
