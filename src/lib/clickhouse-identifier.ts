/** A ClickHouse identifier in backquotes, whatever it holds: a name can never become SQL. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/[\\`]/g, '\\$&')}\``;
}

/** A ClickHouse name that needs no quoting: letters, digits and underscores, not starting with a digit. */
export const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
