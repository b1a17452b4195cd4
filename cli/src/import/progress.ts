// Import progress: on a terminal a cli-progress bar (bytes of the file, lines, events, events/s,
// ETA); elsewhere a plain line on stderr every few seconds, so logs and CI output stay readable.
import { Presets, SingleBar } from 'cli-progress';
import { humanDuration } from '../format';

export type ProgressMode = 'bar' | 'lines' | 'none';

interface Counts {
  bytes: number;
  lines: number;
  events: number;
}

const mb = (n: number) => (n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

export class Progress {
  private readonly started = Date.now();
  private bar: SingleBar | null = null;
  private timer: NodeJS.Timeout | null = null;
  private last: Counts = { bytes: 0, lines: 0, events: 0 };

  constructor(
    private readonly name: string,
    private readonly size: number | null,
    mode: ProgressMode,
    everyMs: number,
  ) {
    if (mode === 'bar') {
      // Size unknown (stdin): no bar to fill, the counters alone.
      const format =
        size !== null
          ? `${name} [{bar}] {percentage}% | {lines} lines | {events} events | {rate} events/s | ETA {eta_formatted}`
          : `${name} | {lines} lines | {events} events | {rate} events/s`;
      this.bar = new SingleBar({ format, stream: process.stderr, hideCursor: true, etaBuffer: 50, fps: 10, barsize: 30, clearOnComplete: false, stopOnComplete: false }, Presets.shades_classic);
      this.bar.start(size ?? 1, 0, { lines: 0, events: 0, rate: 0 });
    } else if (mode === 'lines') {
      this.timer = setInterval(() => process.stderr.write(this.line() + '\n'), everyMs);
      this.timer.unref();
    }
  }

  private rate(): number {
    const s = (Date.now() - this.started) / 1000;
    return s > 0 ? Math.round(this.last.events / s) : 0;
  }

  /** "import: auth.log (authlog): 45% of 12.3 MB, 120000 lines, 3400 events, 1600 events/s, ETA 12s" */
  line(): string {
    const { bytes, lines, events } = this.last;
    const parts = [`${lines} lines`, `${events} events`, `${this.rate()} events/s`];
    if (this.size !== null && this.size > 0) {
      const s = (Date.now() - this.started) / 1000;
      const eta = bytes > 0 ? ((this.size - bytes) / bytes) * s : null;
      parts.unshift(`${Math.min(100, Math.floor((bytes / this.size) * 100))}% of ${mb(this.size)}`);
      parts.push(`ETA ${eta === null ? '?' : humanDuration(eta * 1000)}`);
    }
    return `import: ${this.name}: ${parts.join(', ')}`;
  }

  update(c: Counts): void {
    this.last = c;
    this.bar?.update(this.size !== null ? Math.min(c.bytes, this.size) : 0, { lines: c.lines, events: c.events, rate: this.rate() });
  }

  stop(): void {
    if (this.bar) {
      if (this.size !== null) this.bar.update(this.size);
      this.bar.stop();
      this.bar = null;
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
