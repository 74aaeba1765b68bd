/**
 * The guard benchmark (`npm run bench:guards`): what the built-in detectors cost per call, with
 * every detector on at its default action. It prints numbers and never asserts.
 *
 * 1. Each detector alone over a typical 2 KB tool result (markdown prose, a code block, a JSON
 *    fragment with ids and a hash, links), and all of them through `scanText`.
 * 2. The stages as the pipeline runs them: the output guard over a `tools/call` result whose
 *    content and structuredContent carry that text, and the input guard over a 200-byte
 *    argument set. The next stage is a constant reply, so only guard time is measured.
 */
import { createExfiltrationLinksDetector } from '../src/guard/detectors/exfiltration-links.ts';
import { createHiddenCharactersDetector } from '../src/guard/detectors/hidden-characters.ts';
import { createInstructionOverrideDetector } from '../src/guard/detectors/instruction-override.ts';
import { createOversizedOutputDetector } from '../src/guard/detectors/oversized-output.ts';
import { createSecretsDetector } from '../src/guard/detectors/secrets.ts';
import { createTerminalEscapesDetector } from '../src/guard/detectors/terminal-escapes.ts';
import type { Detector } from '../src/guard/detectors/detector.ts';
import { GuardProfiles } from '../src/guard/guard-profiles.ts';
import { GuardsSchema } from '../src/guard/guard-schema.ts';
import { InputGuardStage } from '../src/guard/input-guard-stage.ts';
import { OutputGuardStage } from '../src/guard/output-guard-stage.ts';
import { newCall, type Reply } from '../src/guard/pipeline.ts';
import { scanText } from '../src/guard/text-scan.ts';
import { localPrincipal } from '../src/identity/principal.ts';
import { machineFacts, loadAverage } from './lib/report.ts';
import { fixed, LatencySamples, micros, since, table } from './lib/stats.ts';

const ITERATIONS = 20_000;
const WARMUP = 2_000;

const RESULT_TEXT = `## Quarterly report: EU region

The numbers below come from the billing service (run 7c9e6679-7425-40de-944b-e07fc1f90ae7) and were
checked against the ledger export of 2024-06-30. Previous reports used the old currency table; see
[the migration notes](https://github.com/example/billing/blob/main/docs/migration.md) for details.

| month | revenue | refunds | net |
|-------|---------|---------|-----|
| April | 120,400 | 2,100 | 118,300 |
| May | 131,950 | 1,870 | 130,080 |
| June | 128,010 | 2,440 | 125,570 |

\`\`\`sql
SELECT date_trunc('month', booked_at) AS month, sum(amount) AS revenue
FROM invoices WHERE region = 'EU' AND booked_at >= '2024-04-01'
GROUP BY 1 ORDER BY 1;
\`\`\`

Commit 3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39 fixed the rounding of refunds. The export file is
\`/data/exports/2024-q2/eu.csv\` (sha256 9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab).

![trend](https://github.com/example/billing/raw/main/docs/trend-q2.png)

Notes from the finance team: the June dip is seasonal; follow the instructions in the runbook if
the reconciliation job fails again. Contact: finance@example.com. Next review: 2024-09-30.
{"tenant":"acme","region":"EU","currency":"EUR","rows":3,"generatedAt":"2024-07-01T06:00:00Z"}
Ticket links: [FIN-2211](https://tracker.example.com/browse/FIN-2211), [FIN-2214](https://tracker.example.com/browse/FIN-2214).
Everything else is unchanged since the last report; the dashboards refresh nightly at 02:00 UTC.

### Open items
1. Confirm the refund policy for orders placed before the migration (owner: billing, due 2024-07-15).
2. Re-run \`reconcile --region eu --month 2024-06\` after the ledger fix is deployed to production.
3. Archive the Q1 exports once the auditors sign off; keep the checksums in the audit folder.
4. Review alert thresholds: the June dip paged the on-call twice although it was expected.
5. Update the runbook with the new contact list and the escalation path for payment outages.
`;

const ARGS = {
  path: '/data/exports/2024-q2/eu.csv',
  query: "SELECT month, revenue FROM report WHERE region = 'EU' ORDER BY month",
  limit: 50,
  format: 'markdown',
  includeHeader: true,
};

const principal = localPrincipal('acme');

function measure(run: () => unknown): LatencySamples {
  for (let i = 0; i < WARMUP; i++) run();
  const samples = new LatencySamples();
  for (let i = 0; i < ITERATIONS; i++) {
    const start = process.hrtime.bigint();
    run();
    samples.add(since(start));
  }
  return samples;
}

async function measureAsync(run: () => Promise<unknown>): Promise<LatencySamples> {
  for (let i = 0; i < WARMUP; i++) await run();
  const samples = new LatencySamples();
  for (let i = 0; i < ITERATIONS; i++) {
    const start = process.hrtime.bigint();
    await run();
    samples.add(since(start));
  }
  return samples;
}

function row(name: string, samples: LatencySamples): string[] {
  const [p50 = NaN, p99 = NaN] = samples.percentiles(50, 99);
  return [name, micros(samples.mean), micros(p50), micros(p99)];
}

async function main(): Promise<void> {
  console.log(`mcplane guard benchmark\n${machineFacts([])}\n`);
  console.log(
    `tool result text: ${Buffer.byteLength(RESULT_TEXT)} bytes; arguments: ${Buffer.byteLength(JSON.stringify(ARGS))} bytes`,
  );
  console.log(`${ITERATIONS} timed iterations after ${WARMUP} warm-up, per row\n`);

  const detectors: Detector[] = [
    createOversizedOutputDetector({ maxBytes: 256 * 1024 }),
    createTerminalEscapesDetector(),
    createHiddenCharactersDetector(),
    createSecretsDetector({ entropy: { threshold: 4, minLength: 32 } }),
    createExfiltrationLinksDetector({ allowHosts: ['github.com'], links: 'with-query' }),
    createInstructionOverrideDetector(),
  ];
  const rows: string[][] = [['2 KB tool result text', 'mean µs', 'p50 µs', 'p99 µs']];
  for (const detector of detectors)
    rows.push(
      row(
        detector.name,
        measure(() => detector.scan(RESULT_TEXT)),
      ),
    );
  const active = detectors.map((detector) => ({ detector, action: 'flag' as const }));
  rows.push(
    row(
      'all six (scanText)',
      measure(() => scanText(RESULT_TEXT, active, 'result', [])),
    ),
  );
  console.log(table(rows));

  const profiles = new GuardProfiles(GuardsSchema.parse({ allowHosts: ['github.com'] }));
  const output = new OutputGuardStage({ profiles, outputSchema: () => ({ type: 'object' }) });
  const input = new InputGuardStage({ profiles });
  const toolReply: Reply = {
    result: {
      content: [{ type: 'text', text: RESULT_TEXT }],
      structuredContent: { report: RESULT_TEXT, rows: 3 },
    },
  };
  const signal = new AbortController().signal;
  const call = (params: Record<string, unknown>) =>
    newCall({
      id: 1,
      method: 'tools/call',
      params,
      session: { key: 's', principal, face: 'stdio' },
      signal,
      target: { server: 'billing', tool: 'report' },
    });
  const stageRows: string[][] = [['stage, every detector on (defaults)', 'mean µs', 'p50 µs', 'p99 µs']];
  stageRows.push(
    row(
      'output guard: tools/call result (2 KB content + structuredContent, outputSchema checked)',
      await measureAsync(() => output.handle(call({ name: 'report' }), async () => toolReply)),
    ),
  );
  stageRows.push(
    row(
      'input guard: 200-byte arguments',
      await measureAsync(() =>
        input.handle(call({ name: 'report', arguments: ARGS }), async () => toolReply),
      ),
    ),
  );
  stageRows.push(
    row('baseline: an empty stage (await next)', await measureAsync(async () => (async () => toolReply)())),
  );
  console.log(`\n${table(stageRows)}`);
  console.log(
    `\nload average at end: ${loadAverage()} (${fixed(process.cpuUsage().user / 1e6, 1)} s user CPU)`,
  );
}

await main();
