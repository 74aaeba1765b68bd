/**
 * The real kustomize, when this machine has one: a standalone `kustomize`, or the one built into
 * `kubectl` (`kubectl kustomize`, offline: it needs no cluster). kubectl before 1.21 carries
 * kustomize v2, which predates the `patches` and `labels` fields, so it does not count.
 */
import { execFileSync } from 'node:child_process';

export type Kustomize = {
  /** Which tool and version, for the test's name. */
  readonly version: string;
  /** `kustomize build <dir>`: the rendered multi-document YAML; throws with kustomize's message. */
  build(dir: string): string;
};

const MIN_MAJOR = 4;

export function findKustomize(): Kustomize | undefined {
  const standalone = run('kustomize', ['version']);
  if (standalone !== undefined && major(standalone) >= MIN_MAJOR) {
    return { version: `kustomize ${standalone.trim()}`, build: (dir) => build('kustomize', ['build', dir]) };
  }
  const kubectl = run('kubectl', ['version', '--client', '-o', 'json']);
  if (kubectl === undefined) return undefined;
  let version: string | undefined;
  try {
    version = (JSON.parse(kubectl) as { kustomizeVersion?: string }).kustomizeVersion;
  } catch {
    return undefined;
  }
  if (version === undefined || major(version) < MIN_MAJOR) return undefined;
  return { version: `kubectl kustomize ${version}`, build: (dir) => build('kubectl', ['kustomize', dir]) };
}

function major(version: string): number {
  const match = /v?(\d+)\./.exec(version);
  return match ? Number(match[1]) : 0;
}

function run(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch {
    return undefined;
  }
}

function build(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || String(error)}`, {
      cause: error,
    });
  }
}
