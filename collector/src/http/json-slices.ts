// JSON.parse of a 1,000-event body held the event loop 5–16 ms in one piece (P3-load in
// docs/bench.md). A top-level array is parsed here a slice of elements at a time instead, with a
// turn of the event loop between slices: a scanner finds the commas between top-level elements
// (outside strings, at depth 1) and each slice is parsed by JSON.parse as an array of its own. The
// values are the same as one JSON.parse would give. Anything the scanner does not recognise as a
// well-formed array answers null, and the caller parses the text whole (for its exact error).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_SQUARE = 0x5b;
const CLOSE_SQUARE = 0x5d;
const OPEN_CURLY = 0x7b;
const CLOSE_CURLY = 0x7d;

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const turn = () => new Promise<void>((r) => setImmediate(r));

/** The array's elements, parsed `step` at a time; null if `text` is not a well-formed JSON array. */
export async function parseArraySliced(text: string, step = 200): Promise<unknown[] | null> {
  let i = 0;
  const n = text.length;
  while (i < n && isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== OPEN_SQUARE) return null;
  i++;
  const out: unknown[] = [];
  let start = i;
  let count = 0;
  let depth = 1;
  let inString = false;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_CURLY || c === OPEN_SQUARE) depth++;
    else if (c === CLOSE_CURLY || c === CLOSE_SQUARE) {
      if (--depth === 0) break;
    } else if (c === COMMA && depth === 1 && ++count === step) {
      // A slice of `step` elements: text[start, i) without the comma that ends it.
      if (!parseInto(out, text, start, i)) return null;
      await turn();
      start = i + 1;
      count = 0;
    }
  }
  if (depth !== 0 || text.charCodeAt(i) !== CLOSE_SQUARE) return null;
  for (let j = i + 1; j < n; j++) if (!isSpace(text.charCodeAt(j))) return null;
  // The last slice; an empty array has nothing between its brackets.
  if (out.length === 0 && count === 0 && text.slice(start, i).trim() === '') return [];
  return parseInto(out, text, start, i) ? out : null;
}

/** Parses text[from, to) as array elements into `out`; false if it is not a non-empty list of values. */
function parseInto(out: unknown[], text: string, from: number, to: number): boolean {
  const slice = text.slice(from, to);
  if (slice.trim() === '') return false;
  let part: unknown;
  try {
    part = JSON.parse(`[${slice}]`);
  } catch {
    return false;
  }
  for (const v of part as unknown[]) out.push(v);
  return true;
}
