// Serialises async critical sections in this process (one writer at a time on a store).
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    // Keep the chain alive whatever fn does; callers see their own result/rejection.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
