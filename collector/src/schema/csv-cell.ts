// One CSV cell of an export: RFC 4180 quoting, and spreadsheet formula neutralisation: a text cell
// that a spreadsheet could read as a formula gets a leading ' (shown as text, formula inert).
// No imports: the CLI writes and reads cells by the same rule without loading the collector.

// A formula sign (= + - @, also in the full-width and small forms spreadsheets read as ASCII, and
// the minus sign) first, or any whitespace/control/invisible character first — spreadsheets skip
// leading spaces and line breaks before a formula.
const FORMULA_START = /^(?:[\s\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202f\u2060\ufeff]|[=+\-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\ufe6b\u2212])/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(s)) s = "'" + s;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A cell's text as the export read back: the ' that neutralised a formula-like text taken off. */
export function readCell(raw: string): string {
  return raw.startsWith("'") && FORMULA_START.test(raw.slice(1)) ? raw.slice(1) : raw;
}
