/** A URL with its password (or its user, when that is all) replaced, for messages and logs. */
export function redactCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i, (_all, scheme: string, userinfo: string) => {
    const user = userinfo.split(":")[0] ?? "";
    return userinfo.includes(":") ? `${scheme}${user}:xxxxx@` : `${scheme}xxxxx@`;
  });
}
