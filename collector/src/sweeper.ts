// Periodic housekeeping in the store: idle sessions end with idle_timeout (stored session_end
// events), unsettled attempt reservations past their TTL count as failures, expired processor
// state is dropped.
import type { Logger } from './log';
import type { Pipeline } from './pipeline/runner';
import { sweepIdleSessions } from './processors/sessions';
import { expireAttempts } from './decision/rules';

export interface Sweeper {
  /** Runs one sweep now (tests, shutdown); resolves with the sessions ended. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function startSweeper(pipeline: Pipeline, intervalSeconds: number, log: Logger): Sweeper {
  let running: Promise<number> | null = null;
  const sweep = (): Promise<number> => {
    // Every key, but not the cluster-wide lock: attempt checks never wait behind a sweep.
    running ??= pipeline
      .run(async (ctx) => {
        const ended = await sweepIdleSessions(ctx);
        // Abandoned attempt reservations count as failures even when no other traffic comes.
        await expireAttempts(ctx);
        await ctx.tx.pruneState(ctx.now);
        return ended;
      }, { everyKey: true })
      .catch((err: unknown) => {
        log.error('sweep failed', { error: String(err) });
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void sweep(), Math.max(50, intervalSeconds * 1000));
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      if (running) await running;
    },
  };
}
