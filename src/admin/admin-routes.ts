/**
 * Small pieces every admin resource file uses: the standard error responses of a route, the
 * JSON body declaration, and the actor's change context.
 */
import type { Context } from 'hono';
import { ProblemSchema } from './admin-schemas.ts';
import type { AdminEnv } from './admin-context.ts';
import type { z } from '@hono/zod-openapi';
import type { Page, PageRequest } from '../store/store.ts';

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** The errors every admin route may answer. */
export const PROBLEMS = {
  400: problem('The request is malformed; `errors` names each problem.'),
  401: problem('No valid credential.'),
  403: problem('The credential has no admin role, or not the one this needs.'),
  404: problem('No such resource, or it belongs to another tenant.'),
} as const;

export const CONFLICT = {
  409: problem('The change conflicts with the current state, or the tenant is config-managed.'),
};

export function jsonBody<T extends z.ZodType>(schema: T, required = true) {
  return { required, content: { 'application/json': { schema } } };
}

export function jsonOf<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** The store's page request for a list's `limit` and `cursor` (PageQuery, or a tool's input). */
export function pageRequest({ limit, cursor }: { limit: number; cursor?: string | undefined }): PageRequest {
  return cursor === undefined ? { limit } : { limit, after: cursor };
}

/** A page's `nextCursor` member for a list's answer: absent on the last page. */
export function nextCursorOf(page: Page<unknown>): { nextCursor?: string } {
  return page.next === undefined ? {} : { nextCursor: page.next };
}

export function changeContext(c: Context<AdminEnv>): { actor: string } {
  return { actor: c.get('actor').subject };
}
