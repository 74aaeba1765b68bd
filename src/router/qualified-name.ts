/**
 * Stable name spacing of tools and prompts across servers: `<server><separator><name>`, with `__`
 * as the default separator, and `<owner>.<server><separator><name>` for a server another tenant
 * shares (server-route.ts). Server names cannot contain the separator (the config schema refuses
 * it), and neither server names, tenant ids nor the separator contain `.`; the router matches a
 * qualified name against the prefixes of the session's routes, so an owner id that happens to
 * hold the separator still splits correctly.
 */

export function qualify(server: string, name: string, separator: string): string {
  return `${server}${separator}${name}`;
}

/** Splits at the first separator; for names whose server part is known to hold no separator. */
export function unqualify(
  qualified: string,
  separator: string,
): { server: string; name: string } | undefined {
  const at = qualified.indexOf(separator);
  if (at <= 0) return undefined;
  const name = qualified.slice(at + separator.length);
  return name === '' ? undefined : { server: qualified.slice(0, at), name };
}
