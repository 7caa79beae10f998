/**
 * ClickHouse SQL for the canonical JSON text of a JSON-typed column, as
 * `canonicalJson(normalizeForHash(value))` gives it ('{}' for no value).
 *
 * Printing a JSON value with `toJSONString` is ClickHouse's slow path: 1.3 to
 * 2.7 µs a value even with one path. Given the paths the column holds in the
 * rows at hand, the text is built from its typed subcolumns instead, which
 * ClickHouse reads column by column (about 12× faster on the verify bench's
 * rows). Past MAX_BUILT_PATHS paths the expression would cost more than it
 * saves, and `toJSONString` is used.
 */

/** Most paths of one column for which its text is built from subcolumns. */
export const MAX_BUILT_PATHS = 64;

/** A SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

interface PathNode {
  /** The full path, where a value sits at this node. */
  leaf?: string;
  children: Map<string, PathNode>;
}

/** `paths`: those the column holds (JSONAllPaths); undefined when unknown or too many. */
export function jsonTextExpression(column: string, paths: readonly string[] | undefined): string {
  const quoted = `\`${column}\``;
  if (!paths || paths.length > MAX_BUILT_PATHS || paths.some((p) => p.split('.').includes(''))) {
    return `if(empty(JSONAllPaths(${quoted})), '{}', ifNull(toJSONString(${quoted}), '{}'))`;
  }
  const root: PathNode = { children: new Map() };
  for (const path of paths) {
    let node = root;
    for (const key of path.split('.')) {
      let next = node.children.get(key);
      if (!next) {
        next = { children: new Map() };
        node.children.set(key, next);
      }
      node = next;
    }
    node.leaf = path;
  }
  return objectText(quoted, root);
}

/** The object at `node`, members in canonicalJson's order, absent and empty members left out. */
function objectText(column: string, node: PathNode): string {
  if (node.children.size === 0) return `'{}'`;
  const members = [...node.children.keys()].sort().map((key) => {
    const child = node.children.get(key)!;
    const name = sqlString(`${JSON.stringify(key)}:`);
    const nested = child.children.size > 0 ? objectText(column, child) : null;
    const leaf = child.leaf !== undefined ? `getSubcolumn(${column}, ${sqlString(child.leaf)})` : null;
    const nestedMember = nested ? `if(${nested} = '{}', '', concat(${name}, ${nested}))` : `''`;
    return leaf ? `if(isNull(${leaf}), ${nestedMember}, concat(${name}, toJSONString(${leaf})))` : nestedMember;
  });
  return `concat('{', arrayStringConcat(arrayFilter(m -> m != '', [${members.join(', ')}]), ','), '}')`;
}
