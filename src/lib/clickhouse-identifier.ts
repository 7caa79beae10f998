/** A ClickHouse identifier in backquotes, whatever it holds: a name can never become SQL. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/[\\`]/g, '\\$&')}\``;
}
