/**
 * What a policy decision is about: the facts of one call (or of one listed item), as the rules'
 * match fields and CEL conditions see them. The authorize stage builds it from the call; the
 * limiter and the anomaly detector provide `usage` and `anomaly`; `mcplane policy test` reads
 * it from a file.
 *
 * In a condition every field below is a variable of the same name; a text field that does not
 * apply (no role, not a tool call) reads as `''`, and `args` is `{}` when there are none.
 */
export type PolicyInput = {
  readonly principal: {
    /** `key:<id>`, `jwt:<sub>`, `local` or `anonymous`. */
    readonly subject: string;
    readonly role?: string;
    readonly via: string;
    readonly scopes: readonly string[];
  };
  readonly tenant: { readonly id: string; readonly tier: string };
  readonly project?: string;
  readonly server: string;
  /** The MCP method: `tools/call`, `prompts/get`, `resources/read`, ... */
  readonly method: string;
  /** The tool, prompt or resource URI as the server knows it (bare, not name-spaced). */
  readonly tool?: string;
  readonly prompt?: string;
  readonly resource?: string;
  /** The call's arguments (`params.arguments`); `{}` when deciding whether to list an item. */
  readonly args: Readonly<Record<string, unknown>>;
  readonly request: { readonly time: Date; readonly face: string };
  /** This principal's recent calls, from the limiter. */
  readonly usage: { readonly callsLastMinute: number; readonly callsLastHour: number };
  /** From the anomaly detector: 0 is usual, 1 is as unusual as it gets. */
  readonly anomaly: { readonly score: number };
};
