/**
 * Text from events (attributes, types, ids) is chosen by whoever sent the webhook, so it never
 * reaches a terminal as it is: a control character could move the cursor, set the title, write
 * the clipboard (OSC 52) or start a new line that looks like one of ours. Every such character is
 * written as a `\uXXXX` escape; a value that holds anything but plain characters is printed
 * quoted, so a space cannot make it look like the next field either.
 */

/** C0 and C1 controls, DEL, the Unicode line and paragraph separators, and bidirectional overrides. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const PLAIN = /^[A-Za-z0-9._:/@+,=~-]+$/;

/** The text with every character that could act on a terminal written as `\uXXXX`. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One field value for a line of output: as it is when plain, else a quoted, escaped string. */
export function fieldText(value: string): string {
  return PLAIN.test(value) ? value : escapeControls(JSON.stringify(value));
}
