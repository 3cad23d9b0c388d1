// Text the user names things with (names, tags, notes): it must display as it is stored, in the page and in a
// terminal, so characters that reorder or hide text are refused.
import type { z } from 'zod';

/** Unicode's bidirectional controls: they make text display in another order than it is stored. */
const BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
/** C0 and C1 controls (terminal escapes among them); tab and line breaks are allowed where text has lines. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_IN_LINES = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** What in `text` would make it display other than it is stored, e.g. "the bidirectional control U+202E", or null. */
export function hiddenCharacter(text: string, multiline = false): string | null {
  const bidi = BIDI_CONTROL.exec(text);
  if (bidi) return `the bidirectional control ${codePoint(bidi[0])}`;
  const control = (multiline ? CONTROL_IN_LINES : CONTROL).exec(text);
  return control ? `the control character ${codePoint(control[0])}` : null;
}

/** `schema` refusing bidirectional controls and control characters (tabs and line breaks too, unless `multiline`). */
export function plainText<T extends z.ZodString>(schema: T, multiline = false): T {
  return schema.refine((text) => hiddenCharacter(text, multiline) === null, {
    error: (issue) => `must not contain ${hiddenCharacter(String(issue.input), multiline)}`,
  });
}
