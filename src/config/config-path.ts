/** A location inside the config value: object keys and array indexes, outermost first. */
export type ConfigPath = readonly (string | number)[];

/** A problem found before it has been placed on a line of the YAML text. */
export type PathProblem = { readonly path: ConfigPath; readonly message: string };

/** Renders a path the way problems report it: `tenants.acme.servers.0`; the document itself is `''`. */
export function formatConfigPath(path: ConfigPath): string {
  return path.join('.');
}

/** Whether `path` is `ancestor` or lies somewhere below it. */
export function isWithin(path: ConfigPath, ancestor: ConfigPath): boolean {
  return ancestor.length <= path.length && ancestor.every((segment, index) => segment === path[index]);
}
