/** What no name, purpose or search term holds: control characters (PostgreSQL refuses a NUL in text). */
export const CONTROL_CHARACTER = /\p{Cc}/u;

/** Half of a surrogate pair on its own: no character at all, stored or hashed as U+FFFD. */
export const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** Characters as a person counts them and PostgreSQL does: an emoji is one, not two UTF-16 units. */
export const characterCount = (text: string) => [...text].length;
