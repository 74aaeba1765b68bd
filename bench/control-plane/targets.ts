/**
 * The targets as the control-plane benchmark checks them: one row per target with the
 * goal, what was measured and PASS or FAIL. Printing only; the benchmark's exit code never
 * depends on a verdict.
 */
import { table } from '../lib/stats.ts';

export type Target = {
  /** Which part of the benchmark measured it (1, 2 or 3). */
  readonly part: number;
  readonly target: string;
  readonly goal: string;
  readonly measured: string;
  readonly pass: boolean;
};

export function targetsTable(rows: readonly Target[]): string {
  return table([
    ['part', 'target', 'goal', 'measured', 'verdict'],
    ...rows.map((row) => [String(row.part), row.target, row.goal, row.measured, row.pass ? 'PASS' : 'FAIL']),
  ]);
}

/** Prints a part's targets under its own heading, and returns them for the summary. */
export function printTargets(title: string, rows: readonly Target[]): readonly Target[] {
  console.log(`\n${title}: targets\n${targetsTable(rows)}`);
  return rows;
}
