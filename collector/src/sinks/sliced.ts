// Sinks run on the thread that answers /v1/check, and a group commit hands them up to 20,000 events
// at once: turning each into an OpenTelemetry log record in one go held the event loop for tens of
// milliseconds. SlicedWork does the per-item work a slice at a time with a turn of the loop between
// slices (a waiting check is answered in between), in the order the items were pushed.

/** Items per slice: ~0.5 ms of log-record work on this machine class. */
export const SLICE_ITEMS = 100;

export class SlicedWork<T> {
  private readonly pending: { items: readonly T[]; at: number }[] = [];
  private running: Promise<void> | null = null;

  /** `each` must not throw (a sink catches and reports per item). */
  constructor(
    private readonly each: (item: T) => void,
    private readonly sliceItems = SLICE_ITEMS,
  ) {}

  /** Queues the items; the first slice runs now (a small batch is done on return), the rest later. */
  push(items: readonly T[]): void {
    if (!items.length) return;
    this.pending.push({ items, at: 0 });
    if (this.running) return;
    this.step();
    if (this.pending.length) this.running = this.rest();
  }

  /** Resolves once every item pushed so far has been handled. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private step(): void {
    let left = this.sliceItems;
    while (left > 0 && this.pending.length) {
      const p = this.pending[0];
      const end = Math.min(p.items.length, p.at + left);
      left -= end - p.at;
      while (p.at < end) this.each(p.items[p.at++]);
      if (p.at >= p.items.length) this.pending.shift();
    }
  }

  private async rest(): Promise<void> {
    try {
      while (this.pending.length) {
        await new Promise<void>((r) => setImmediate(r));
        this.step();
      }
    } finally {
      this.running = null;
    }
  }
}
