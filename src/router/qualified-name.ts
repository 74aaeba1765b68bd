/**
 * Stable name spacing of tools and prompts across servers: `<server><separator><name>`, with `__`
 * as the default separator. Server names cannot contain the separator (the config schema refuses
 * it), so the first occurrence always splits a qualified name correctly.
 */

export function qualify(server: string, name: string, separator: string): string {
  return `${server}${separator}${name}`;
}

export function unqualify(
  qualified: string,
  separator: string,
): { server: string; name: string } | undefined {
  const at = qualified.indexOf(separator);
  if (at <= 0) return undefined;
  const name = qualified.slice(at + separator.length);
  return name === '' ? undefined : { server: qualified.slice(0, at), name };
}
