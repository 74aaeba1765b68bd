/**
 * Reloads `servers.config.yaml` into the running gateway, by whichever trigger: the file watch,
 * SIGHUP or `POST /admin/v1/reload`. The new file is validated first; an invalid one is refused
 * with every problem, and the running config stays as it was.
 */
import { ConfigError } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import { loadCallGuarding } from '../guard/call-guarding.ts';
import type { ReloadOutcome } from '../admin/admin-context.ts';

export type ConfigReloaderOptions = {
  readonly path: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly gateway: Gateway;
};

export class ConfigReloader {
  readonly #options: ConfigReloaderOptions;
  /** Reloads run one at a time, in the order they were asked for. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ConfigReloaderOptions) {
    this.#options = options;
  }

  reload(trigger: string): Promise<ReloadOutcome> {
    const run = this.#queue.then(() => this.#reload(trigger));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reload(trigger: string): Promise<ReloadOutcome> {
    const { gateway, path, env } = this.#options;
    let next;
    let guarding;
    try {
      next = await loadConfig(path, env);
      guarding = await loadCallGuarding(next, path);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const problems = error.format().split('\n');
      gateway.log.error({ trigger, problems }, 'config reload refused: the running config is unchanged');
      return { applied: false, problems };
    }
    let plan;
    try {
      plan = await gateway.reload(next, guarding);
    } catch (error) {
      // What only this machine can say is wrong (a sandbox bwrap cannot give), found before
      // anything changed.
      if (!(error instanceof GatewayError && error.code === 'CONFIG_INVALID')) throw error;
      gateway.log.error(
        { trigger, problems: [error.message] },
        'config reload refused: the running config is unchanged',
      );
      return { applied: false, problems: [error.message] };
    }
    gateway.log.info({ trigger }, 'config reload applied');
    return {
      applied: true,
      added: plan.added,
      removed: plan.removed,
      changed: plan.changed,
      unchanged: plan.unchanged,
      restartRequired: plan.restartRequired,
    };
  }
}
