import type { SqlToken } from '../../../src/features/analyst/analyst-query-policy';

/**
 * A small stand-in for ClickHouse's lexer (`tokenizeQuery`), enough for the
 * queries of the unit tests: the same token types and byte offsets into the
 * UTF-8 text. In production the tokens come from ClickHouse itself; the
 * policy under test only reads them. Anything this lexer does not know
 * becomes an `Error` token, as ClickHouse's own unknown input does.
 */
export function tokenize(sql: string): SqlToken[] {
  const bytes = Buffer.from(sql, 'utf8');
  const text = bytes.toString('latin1'); // one char per byte, so offsets are byte offsets
  const tokens: SqlToken[] = [];
  let i = 0;
  const push = (end: number, type: string) => {
    tokens.push({ start: i, end, type });
    i = end;
  };
  const until = (re: RegExp, from: number) => {
    re.lastIndex = from;
    const m = re.exec(text);
    return m ? m.index + m[0].length : -1;
  };
  const quoted = (quote: string, type: string, unclosed: string) => {
    // A quote doubled, or escaped with a backslash, does not close.
    for (let k = i + 1; k < text.length; k++) {
      if (text[k] === '\\') k++;
      else if (text[k] === quote) {
        if (text[k + 1] === quote) k++;
        else return push(k + 1, type);
      }
    }
    push(text.length, unclosed);
  };
  const punctuation: [string, string][] = [
    ['::', 'DoubleColon'],
    ['->', 'Arrow'],
    ['<=', 'LessOrEquals'],
    ['>=', 'GreaterOrEquals'],
    ['!=', 'NotEquals'],
    ['<>', 'NotEquals'],
    ['==', 'Equals'],
    ['||', 'Concatenation'],
    ['(', 'OpeningRoundBracket'],
    [')', 'ClosingRoundBracket'],
    ['[', 'OpeningSquareBracket'],
    [']', 'ClosingSquareBracket'],
    ['{', 'OpeningCurlyBrace'],
    ['}', 'ClosingCurlyBrace'],
    [',', 'Comma'],
    [';', 'Semicolon'],
    ['.', 'Dot'],
    ['*', 'Asterisk'],
    ['+', 'Plus'],
    ['-', 'Minus'],
    ['/', 'Slash'],
    ['%', 'Percent'],
    ['=', 'Equals'],
    ['<', 'Less'],
    ['>', 'Greater'],
    ['?', 'QuestionMark'],
    [':', 'Colon'],
  ];
  while (i < text.length) {
    const c = text[i]!;
    const rest = text.slice(i, i + 2);
    if (/[ \t\n\r\f\v]/.test(c)) push(until(/[ \t\n\r\f\v]+/y, i), 'Whitespace');
    else if (rest === '--') push(until(/--[^\n]*/y, i), 'Comment');
    else if (rest === '/*') push(text.indexOf('*/', i + 2) < 0 ? text.length : text.indexOf('*/', i + 2) + 2, text.indexOf('*/', i + 2) < 0 ? 'ErrorMultilineCommentIsNotClosed' : 'Comment');
    else if (/[A-Za-z_]/.test(c)) push(until(/[A-Za-z_][A-Za-z0-9_$]*/y, i), 'BareWord');
    else if (/[0-9]/.test(c)) push(until(/0x[0-9a-fA-F]+|[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?/y, i), 'Number');
    else if (c === "'") quoted("'", 'StringLiteral', 'ErrorSingleQuoteIsNotClosed');
    else if (c === '`') quoted('`', 'QuotedIdentifier', 'ErrorBackQuoteIsNotClosed');
    else if (c === '"') quoted('"', 'QuotedIdentifier', 'ErrorDoubleQuoteIsNotClosed');
    else {
      const [symbol, type] = punctuation.find(([s]) => text.startsWith(s, i)) ?? [c, 'Error'];
      push(i + symbol.length, type);
    }
  }
  return tokens;
}
