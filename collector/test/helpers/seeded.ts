// A seeded generator for test data: the same events on every run and on both stores.
export function seeded(seed: number): { int(n: number): number; float(): number; pick<T>(xs: readonly T[]): T } {
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  return {
    int: (n) => next() % n,
    float: () => next() / 2 ** 31,
    pick: (xs) => xs[next() % xs.length],
  };
}
