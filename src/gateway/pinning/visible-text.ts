/**
 * Characters a reader cannot see, or that reorder what they see: zero-width and word-joiner characters, the
 * byte-order mark, Unicode tag characters (U+E0000-U+E007F, which can smuggle ASCII), and bidirectional controls.
 */
export const INVISIBLE_CHARACTERS = /[\u200B-\u200F\u2060-\u2064\uFEFF\u{E0000}-\u{E007F}]/gu;
export const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/gu;
// Other C0/C1 controls (tab and newline excepted) and the remaining format characters a terminal may honour.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const OTHER_CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u180E]/gu;

const codePoint = (char: string) =>
  `<U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>`;

/**
 * Text safe to show a reviewer: every invisible, bidirectional or control character spelled out as `<U+XXXX>`,
 * so nothing hides in the output or reorders the terminal it is printed on.
 */
export function visibleText(text: string): string {
  return text
    .replace(INVISIBLE_CHARACTERS, codePoint)
    .replace(BIDI_CONTROLS, codePoint)
    .replace(OTHER_CONTROLS, codePoint);
}
