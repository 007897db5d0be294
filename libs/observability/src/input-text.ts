/**
 * What text the coordinator accepts from outside. Decided once, used by the request-hygiene layer
 * (URLs, headers, JSON and form bodies) and by the validators:
 *
 * - Identifiers and URL parts (path, query keys, header values, JSON keys): no C0 control
 *   character (U+0000-U+001F) and no DEL (U+007F). Header values may hold a tab, which HTTP
 *   treats as white space.
 * - Text values (query, form and JSON string values): no C0 control except tab, line feed and
 *   carriage return (a reason or a display name may hold them), and no DEL.
 * - Everywhere: well-formed Unicode. A lone UTF-16 surrogate (JSON "\ud800") or bytes that are not
 *   UTF-8 (%FF) are refused, not silently replaced.
 *
 * NUL is the one PostgreSQL cannot store in text or jsonb; the rest are refused because no
 * identifier, URI or name needs them and they break logs and terminals.
 */
// eslint-disable-next-line no-control-regex
const CONTROL_STRICT = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_HEADER = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type TextKind = 'identifier' | 'text' | 'header';

/** The problem of a piece of outside text, or null when it is acceptable. */
export function textProblem(value: string, kind: TextKind): string | null {
  const control = kind === 'identifier' ? CONTROL_STRICT : kind === 'text' ? CONTROL_TEXT : CONTROL_HEADER;
  const bad = control.exec(value);
  if (bad) return `contains the control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`;
  if (LONE_SURROGATE.test(value)) return 'is not well-formed Unicode (a lone surrogate)';
  return null;
}

/** decodeURIComponent that answers null for bad percent-encoding or bytes that are not UTF-8. */
export function strictDecode(raw: string, plusIsSpace = false): string | null {
  try {
    return decodeURIComponent(plusIsSpace ? raw.replace(/\+/g, ' ') : raw);
  } catch {
    return null;
  }
}

/** A name from outside, printable in an error message (control characters escaped, length capped). */
export function printableName(name: string): string {
  const short = name.length > 60 ? `${name.slice(0, 60)}…` : name;
  return textProblem(short, 'identifier') ? JSON.stringify(short) : short;
}
