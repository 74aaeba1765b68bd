/**
 * `mcplane store rotate-key`: re-encrypting every stored secret under the current master key.
 * While it runs and after, every replica that has the old key as a previous key still reads
 * everything, so rotation needs no downtime (docs/store.md).
 */
import { GatewayError } from '../../errors.ts';
import { openArgs, openEnv, sealArgs, sealedKeyIds, sealEnv } from '../secrets/sealed-values.ts';
import type { SecretRotation } from '../store.ts';
import { json, type Row, type Sql } from './database.ts';
import { storedConfigFromRow } from './server-configs-sql.ts';
import type { StoreContext } from './store-context.ts';

async function allConfigs(sql: Sql) {
  return (await sql.rows('SELECT * FROM tenant_server_configs ORDER BY tenant_id, server')).map((row: Row) =>
    storedConfigFromRow(row),
  );
}

export function createSecretRotation(ctx: StoreContext): SecretRotation {
  return {
    async rotate(context) {
      const box = ctx.box;
      if (!box)
        throw new GatewayError('MASTER_KEY_MISSING', 'rotate-key needs the new key in MCPLANE_MASTER_KEY');
      return ctx.write('platform', context, async ({ sql, log }) => {
        let reencrypted = 0;
        for (const config of await allConfigs(sql)) {
          const stale = sealedKeyIds(box, [...Object.values(config.env), ...(config.args ?? [])]).filter(
            (keyId) => keyId !== box.currentKeyId,
          ).length;
          if (stale === 0) continue;
          const home = { tenantId: config.tenantId, server: config.server };
          const env = sealEnv(box, openEnv(box, config.env, home), home);
          const args = config.args === null ? null : sealArgs(box, openArgs(box, config.args, home), home);
          await sql.run(
            'UPDATE tenant_server_configs SET env = $3, args = $4 WHERE tenant_id = $1 AND server = $2',
            [config.tenantId, config.server, json(env), args === null ? null : json(args)],
          );
          reencrypted += stale;
        }
        if (reencrypted > 0) {
          await log(null, {
            action: 'store.rotate_key',
            target: `master_key:${box.currentKeyId}`,
            details: { reencrypted },
          });
        }
        return { reencrypted, keyId: box.currentKeyId };
      });
    },

    async keyIdsInUse() {
      const configs = await ctx.read('platform', allConfigs);
      const counts: Record<string, number> = {};
      for (const config of configs) {
        for (const keyId of sealedKeyIds(ctx.box, [...Object.values(config.env), ...(config.args ?? [])])) {
          counts[keyId] = (counts[keyId] ?? 0) + 1;
        }
      }
      return counts;
    },
  };
}
