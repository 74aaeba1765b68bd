/**
 * What one call may take on a server: its timeout, the size of its result and its CPU time,
 * per tool where `limits.tools` says so, else per server (`timeouts.call`, `limits.*`).
 */
import type { ServerConfig } from '../config/schema.ts';
import type { CpuLimit } from './call-cpu-watch.ts';

export type CallLimits = {
  readonly timeoutMs: number;
  readonly maxResultBytes?: number;
  /** The setting that set `maxResultBytes`, for the error. */
  readonly maxResultSetting?: string;
  readonly cpuLimit?: CpuLimit;
};

/** The limits of a request `method` with `params` (for tools/call, `params.name` is the server's own tool name). */
export function callLimitsOf(
  server: string,
  settings: Pick<ServerConfig, 'timeouts' | 'limits'>,
  method: string,
  params: Record<string, unknown> | undefined,
): CallLimits {
  const tool = method === 'tools/call' && typeof params?.name === 'string' ? params.name : undefined;
  const own = tool === undefined ? undefined : settings.limits.tools[tool];
  const at = (key: string): string =>
    own?.[key as keyof typeof own] === undefined
      ? `servers.${server}.limits.${key}`
      : `servers.${server}.limits.tools.${tool}.${key}`;
  const maxResultBytes = own?.maxResultSize ?? settings.limits.maxResultSize;
  const cpuMs = own?.cpuLimit ?? settings.limits.cpuLimit;
  return {
    timeoutMs: own?.timeout ?? settings.timeouts.call,
    ...(maxResultBytes === undefined ? {} : { maxResultBytes, maxResultSetting: at('maxResultSize') }),
    ...(cpuMs === undefined
      ? {}
      : {
          cpuLimit: {
            ms: cpuMs,
            setting: at('cpuLimit'),
            what: tool === undefined ? method : `tools/call ${tool}`,
          },
        }),
  };
}
