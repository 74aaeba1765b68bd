/** Shared bits of the resilience tests: keys for two tenants, a temp dir, reading JSON-RPC errors. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { newApiKey } from '../http/http-harness.ts';

export function twoTenants(extra: { acme?: Record<string, unknown>; globex?: Record<string, unknown> } = {}) {
  const acme = newApiKey();
  const globex = newApiKey();
  return {
    acme,
    globex,
    tenants: {
      acme: { name: 'Acme', apiKeys: [acme.entry], ...extra.acme },
      globex: { name: 'Globex', apiKeys: [globex.entry], ...extra.globex },
    },
  };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mcplane-resilience-'));
}

export const flagPath = (dir: string): string => join(dir, 'down');

/** What a rejected SDK request carried: its JSON-RPC code, message and data. */
export async function rpcFailure(
  request: Promise<unknown>,
): Promise<{ code: number; message: string; data: Record<string, unknown> }> {
  try {
    await request;
  } catch (error) {
    if (error instanceof McpError) {
      return {
        code: error.code,
        message: error.message,
        data: (error.data ?? {}) as Record<string, unknown>,
      };
    }
    throw error;
  }
  throw new Error('the request succeeded');
}

export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((item) => item.text ?? '').join('');
}
