/** Where a command writes and what environment it sees. Writers get whole lines, newline included. */
export type CommandIo = {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Record<string, string | undefined>;
};
