// Exports share the event loop with /v1/check. A streamed export yields to the loop after each
// slice of ~2 ms of work (so a check waits at most about that long), and when other work was
// waiting it also pauses as long as its slice took, so a busy loop gives an export at most about
// half of its time. On an idle loop the export runs at full speed.
const SLICE_MS = 2;
const MAX_PAUSE_MS = 50;

export class StreamPacer {
  private sliceStart = performance.now();

  /** Call before handing out each item. */
  async turn(): Promise<void> {
    const busy = performance.now() - this.sliceStart;
    if (busy < SLICE_MS) return;
    const t = performance.now();
    await new Promise((r) => setImmediate(r));
    if (performance.now() - t > 1) await new Promise((r) => setTimeout(r, Math.min(busy, MAX_PAUSE_MS)));
    this.sliceStart = performance.now();
  }
}
