/**
 * Policy: the loaded rules in evaluation order (`GET /policy`), and a dry-run tester that asks
 * what they decide for one input (`POST /policy/explain`), as `mcplane policy explain` does.
 * Platform admins only: the API refuses anyone else, and the page shows its answer.
 */
import { html } from 'hono/html';
import { notAvailable, type AdminReply, type Problem } from '../admin-calls.ts';
import {
  field,
  statusOf,
  type DashboardApp,
  type DashboardContext,
  type DashboardDeps,
} from '../dashboard-context.ts';
import { csrfField, page, problemBox, ui, unavailable, type Html } from '../page-layout.ts';

type Rule = {
  name: string;
  effect: string;
  mode: string;
  reason: string | null;
  match: Record<string, string[]>;
  condition: string | null;
  origin: { file: string; line: number };
};
type Explanation = {
  decision: { effect: string; rule: string; mode: string; reason?: string };
  decidedBy: string | null;
  listed: boolean;
  tenantDefault: { effect: string };
  rules: { rule: string; outcome: string; detail: string | null }[];
};

export function policyPages(app: DashboardApp, _deps: DashboardDeps): void {
  app.get('/policy', (c) => render(c));
  app.post('/policy/explain', async (c) => {
    const form = await c.req.parseBody();
    const input: Record<string, unknown> = { tenant: field(form, 'tenant'), server: field(form, 'server') };
    const kind = field(form, 'kind') || 'tool';
    if (field(form, 'name') !== '') input[kind] = field(form, 'name');
    if (field(form, 'principal') !== '') input.principal = field(form, 'principal');
    const argsText = field(form, 'args');
    if (argsText !== '') {
      try {
        input.args = JSON.parse(argsText) as unknown;
      } catch {
        return answer(c, {
          status: 400,
          title: 'Bad Request',
          code: 'INVALID_PARAMS',
          detail: 'Arguments must be a JSON object',
        });
      }
    }
    const explained = await c.get('api')<Explanation>('POST', '/policy/explain', input);
    return explained.ok ? answer(c, undefined, explained.body) : answer(c, explained.problem);
  });
}

async function answer(c: DashboardContext, problem?: Problem, explanation?: Explanation): Promise<Response> {
  const result = html`${problem ? problemBox(problem) : ''}${explanation ? explained(explanation) : ''}`;
  if (c.req.header('hx-request') === 'true') return c.html(result, statusOf(problem));
  return render(c, result, statusOf(problem));
}

async function render(c: DashboardContext, result?: Html, status = statusOf(undefined)): Promise<Response> {
  const rules: AdminReply<{ files: string[]; rules: Rule[] }> = await c.get('api')('GET', '/policy');
  const body = notAvailable(rules)
    ? unavailable('Policy')
    : !rules.ok
      ? problemBox(rules.problem)
      : html`${ruleTable(rules.body.files, rules.body.rules)} ${tester(c)}
          <section id="explanation" aria-live="polite" aria-labelledby="explanation-heading">
            <h2 id="explanation-heading">Dry-run result</h2>
            <div id="explanation-result">${result ?? html`<p class="hint">Nothing tested yet.</p>`}</div>
          </section>`;
  return c.html(page(c.get('session'), 'Policy', ui('/policy'), body), status);
}

function ruleTable(files: string[], rules: Rule[]): Html {
  return html`<p>
      ${files.length === 0 ? 'No policy files are loaded: every tenant default decides (allow).' : html`Files: ${files.join(', ')}`}
    </p>
    <table>
      <caption>
        Rules, in evaluation order
      </caption>
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th scope="col">Effect</th>
          <th scope="col">Matches</th>
          <th scope="col">When</th>
          <th scope="col">Reason</th>
          <th scope="col">Where</th>
        </tr>
      </thead>
      <tbody>
        ${
          rules.length === 0
            ? html`<tr>
                <td colspan="6">No rules.</td>
              </tr>`
            : ''
        }
        ${rules.map(
          (rule) =>
            html`<tr>
              <th scope="row">${rule.name}</th>
              <td>${rule.effect}${rule.mode === 'dry-run' ? ' (dry-run)' : ''}</td>
              <td>
                ${Object.entries(rule.match).map(([name, globs]) => html`<div><code>${name}</code>: ${globs.join(', ')}</div>`)}
              </td>
              <td>${rule.condition ? html`<code>${rule.condition}</code>` : ''}</td>
              <td>${rule.reason ?? ''}</td>
              <td>${rule.origin.file}:${rule.origin.line}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function tester(c: DashboardContext): Html {
  return html`<form
    method="post"
    action="${ui('/policy/explain')}"
    hx-post="${ui('/policy/explain')}"
    hx-target="#explanation-result"
    hx-swap="innerHTML"
    class="card"
    aria-labelledby="tester-heading"
  >
    <h2 id="tester-heading">Dry-run tester</h2>
    ${csrfField(c.get('session'))}
    <label for="policy-tenant">Tenant</label>
    <input id="policy-tenant" name="tenant" required />
    <label for="policy-server">Server</label>
    <input id="policy-server" name="server" required />
    <label for="policy-kind">Item</label>
    <select id="policy-kind" name="kind">
      <option value="tool">tool</option>
      <option value="prompt">prompt</option>
      <option value="resource">resource</option>
    </select>
    <label for="policy-name">Name (as the server knows it)</label>
    <input id="policy-name" name="name" required />
    <label for="policy-principal">Principal (optional, e.g. <code>key:abc</code>)</label>
    <input id="policy-principal" name="principal" />
    <label for="policy-args">Arguments (JSON, optional)</label>
    <textarea id="policy-args" name="args" rows="2"></textarea>
    <button type="submit">Explain</button>
  </form>`;
}

function explained(explanation: Explanation): Html {
  const { decision } = explanation;
  return html`<p data-decision="${decision.effect}">
      <strong>${decision.effect}</strong> by
      ${explanation.decidedBy === null ? 'the tenant default' : html`rule <code>${explanation.decidedBy}</code>`}
      (${decision.mode})${decision.reason ? `: ${decision.reason}` : ''};
      ${explanation.listed ? 'shown' : 'hidden'} in lists.
    </p>
    <table>
      <caption>
        Every rule's outcome
      </caption>
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th scope="col">Outcome</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        ${explanation.rules.map(
          (rule) =>
            html`<tr>
              <th scope="row">${rule.rule}</th>
              <td>${rule.outcome}</td>
              <td>${rule.detail ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}
