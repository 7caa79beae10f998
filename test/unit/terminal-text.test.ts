import { terminalText } from '../../src/lib/terminal-text';

describe('terminalText', () => {
  it('shows escape sequences, carriage returns, C1 controls, bidi overrides and zero-width characters as escapes', () => {
    expect(terminalText('key \u001b[2K\rOK\u009b1A \u202eevil\u200b')).toBe('key \\u001b[2K\\u000dOK\\u009b1A \\u202eevil\\u200b');
  });

  it('leaves printable text, accents and other scripts as they are', () => {
    expect(terminalText('OK: audit_logs seals 1-4, Zoë, 東京')).toBe('OK: audit_logs seals 1-4, Zoë, 東京');
  });
});
