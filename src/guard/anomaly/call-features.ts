/**
 * What the anomaly detector reads of a call: the item it calls, the size of its arguments and
 * their path-like and URL-like prefixes. A resources/read has no arguments; its URI is its one
 * prefix.
 */
import type { Call } from '../pipeline.ts';
import { argumentPrefixes, prefixOf, PREFIX_LIMITS } from './argument-prefixes.ts';
import type { CallFeatures } from './baseline.ts';

/** The methods the detector scores. */
export const SCORED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** The features of a routed call (`call.target` set), or undefined for a method not scored. */
export function callFeatures(call: Call): CallFeatures | undefined {
  const target = call.target;
  if (target === undefined || !SCORED_METHODS.has(call.method)) return undefined;
  if (call.method === 'resources/read') {
    const prefix = target.uri === undefined ? undefined : prefixOf(target.uri);
    return {
      item: `resources/read ${target.server}`,
      bytes: 0,
      prefixes: prefix === undefined ? [] : [prefix.slice(0, PREFIX_LIMITS.prefixLength)],
    };
  }
  const name = call.method === 'tools/call' ? target.tool : target.prompt;
  const args = call.params.arguments;
  return {
    item: `${call.method} ${target.server} ${name ?? ''}`,
    bytes: args === undefined ? 0 : Buffer.byteLength(JSON.stringify(args)),
    prefixes: argumentPrefixes(args),
  };
}
