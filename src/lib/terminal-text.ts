/**
 * Characters that must not reach a terminal as they are: C0 controls (ESC
 * starts the sequences that move the cursor, erase lines and recolour or
 * hide text; CR returns to the start of the line), DEL, C1 controls (U+009B
 * is CSI on its own), bidirectional overrides and isolates, which make text
 * read in another order, and the zero-width and separator characters that
 * hide or break it.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Text from a file or a client made safe to print on one terminal line:
 * each character above is shown as its escape (`\u001b`), so an operator
 * sees that it was there and it does nothing.
 */
export function terminalText(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
