// A 200k-line generated auth.log with a stated ground truth (test/fixtures/authlog-generate.cjs,
// generateAuthLogTruth: which lines are attempts, of which address, when). "Flagged" is measured
// the way the collector's brute-force rule sees an address: the parser's failures, a sliding
// window of 600 s, 5 or more attempts. The parser must flag exactly the addresses the truth flags,
// and count exactly the truth's attempts per address (so none of a framed address, none twice for
// an attempt written on several lines). Counting lines instead is printed for comparison.
import { classifyLine } from './authlog-lines';
import { createAuthLogParser } from './authlog-parse';
import { offsetFunction } from './authlog-time';

interface Truth {
  lines: string[];
  attempts: { ip: string; time: number }[];
  flagged: string[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const gen = require('../../test/fixtures/authlog-generate.cjs') as {
  generateAuthLogTruth: (n: number) => Truth;
  flaggedOf: (attempts: { ip: string; time: number }[]) => string[];
};

const NOW = Date.parse('2026-11-24T12:00:00Z');

function precisionRecall(got: string[], want: string[]): { precision: number; recall: number } {
  const w = new Set(want);
  const hits = got.filter((ip) => w.has(ip)).length;
  return { precision: got.length ? hits / got.length : 1, recall: want.length ? hits / want.length : 1 };
}

test('200k generated lines: exactly the addresses with ≥ 5 failed attempts in 600 s are flagged; attempts per address equal the truth', () => {
  const truth = gen.generateAuthLogTruth(200_000);
  expect(truth.lines).toHaveLength(200_000);
  // The log has every kind the truth describes, in numbers that make the comparison mean something.
  expect(truth.flagged.length).toBeGreaterThan(500);
  const perTruth = new Map<string, number>();
  for (const a of truth.attempts) perTruth.set(a.ip, (perTruth.get(a.ip) ?? 0) + 1);
  expect([...perTruth.keys()].some((ip) => ip.startsWith('203.0.113.'))).toBe(false);

  const t0 = process.hrtime.bigint();
  const parse = createAuthLogParser({ timezone: 'UTC', now: () => NOW });
  const attempts: { ip: string; time: number }[] = [];
  const take = (evs: ReturnType<typeof parse>) => {
    for (const e of evs ?? []) if (e.type === 'login' && e.outcome === 'failure' && e.ip) attempts.push({ ip: e.ip, time: e.time });
  };
  for (const l of truth.lines) take(parse(l));
  take(parse.flush());
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

  const perOurs = new Map<string, number>();
  for (const a of attempts) perOurs.set(a.ip, (perOurs.get(a.ip) ?? 0) + 1);
  const wrong = [...new Set([...perTruth.keys(), ...perOurs.keys()])].filter((ip) => perTruth.get(ip) !== perOurs.get(ip));
  expect(wrong.slice(0, 10).map((ip) => [ip, perTruth.get(ip), perOurs.get(ip)])).toEqual([]);

  const flagged = gen.flaggedOf(attempts);
  expect(flagged).toEqual(truth.flagged);

  // What counting lines would do: every line of a failure family, each a failure.
  const ctx = { now: NOW, offset: offsetFunction('UTC') };
  const lineFailures: { ip: string; time: number }[] = [];
  for (const l of truth.lines) {
    const c = classifyLine(l, ctx);
    if (c && c.addr && c.mode === 'normal' && (c.role === 'attempt' || c.role === 'lead' || c.role === 'trailer')) for (let k = 0; k < c.count; k++) lineFailures.push({ ip: c.addr, time: c.head.time });
  }
  const byLines = precisionRecall(gen.flaggedOf(lineFailures), truth.flagged);
  const ours = precisionRecall(flagged, truth.flagged);
  console.log(
    `ground truth: ${truth.attempts.length} attempts from ${perTruth.size} addresses, ${truth.flagged.length} flagged. ` +
      `Attempts: precision ${ours.precision.toFixed(3)}, recall ${ours.recall.toFixed(3)} (parsed in ${seconds.toFixed(2)} s). ` +
      `Counting lines instead: precision ${byLines.precision.toFixed(3)}, recall ${byLines.recall.toFixed(3)}.`,
  );
  expect(byLines.precision).toBeLessThan(1); // the generated log does contain the case line counting gets wrong
}, 60_000);
