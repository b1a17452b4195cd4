// The authentication metrics (authwatch_* in Prometheus). Instrument names are chosen so that the
// Prometheus names come out exactly as the wire contract lists them: OTel's Prometheus exporter
// (and OTLP→Prometheus translators) append `_total` to monotonic counters, so counters are named
// without it. Labels come from bounded vocabularies only (metrics-labels.ts): never a user, IP or
// session, nor any other client text.
import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import type { StoredEvent } from '../schema/stored-event';
import { INGEST_TYPES, SYSTEM_TYPES } from '../schema/stored-event';
import { DETECTION_KINDS } from '../schema/reasons';
import { NONE, REASON_LABELS, ServiceLabels, Vocabulary } from './metrics-labels';

export interface GaugeSource {
  sessionsActive(): Promise<number>;
  accountsLocked(): Promise<number>;
}

export const LOCKOUT_SCOPES = ['user', 'user_ip', 'ip'] as const;
// The kinds the detections processor raises, pre-initialised at 0 (see the constructor).
export { DETECTION_KINDS };

/** Counts per distinct label set within one batch, so a 10,000-event batch costs a few add() calls. */
class BatchCounts {
  private readonly counts = new Map<string, { attrs: Attributes; n: number }>();
  add(attrs: Record<string, string>): void {
    // Label values are codes (no control characters), so joining them is an exact key.
    const key = Object.values(attrs).join('\u0000');
    const entry = this.counts.get(key);
    if (entry) entry.n += 1;
    else this.counts.set(key, { attrs, n: 1 });
  }
  flushTo(counter: Counter): void {
    for (const { attrs, n } of this.counts.values()) counter.add(n, attrs);
  }
}

export class AuthMetrics {
  private readonly loginAttempts: Counter;
  private readonly lockouts: Counter;
  private readonly ingested: Counter;
  private readonly detections: Counter;
  private readonly reason = REASON_LABELS;
  private readonly service: ServiceLabels;
  private readonly kind = new Vocabulary(DETECTION_KINDS);
  private readonly scope = new Vocabulary(LOCKOUT_SCOPES);

  /** `services`: the configured service label values (AUTHWATCH_METRIC_SERVICES), null for none. */
  constructor(meter: Meter, gauges: GaugeSource, onGaugeError: (err: unknown) => void, services: readonly string[] | null) {
    this.service = new ServiceLabels(services);
    this.loginAttempts = meter.createCounter('authwatch_login_attempts', {
      description: 'Login events stored, by outcome, reason code and service.',
    });
    this.lockouts = meter.createCounter('authwatch_lockouts', {
      description: 'Locks applied (user, user+IP pair or IP), by scope.',
    });
    this.ingested = meter.createCounter('authwatch_events_ingested', {
      description: 'Events stored (application and collector-made kinds), by type.',
    });
    this.detections = meter.createCounter('authwatch_detections', {
      description: 'Detections raised, by kind (brute_force, password_spray, …).',
    });

    // Series that alert rules use exist from the start at 0: rate()/increase() cannot see the
    // first increment of a series that appears with value 1 (e.g. the first password spray ever).
    for (const type of [...INGEST_TYPES, ...SYSTEM_TYPES]) this.ingested.add(0, { type });
    for (const scope of LOCKOUT_SCOPES) this.lockouts.add(0, { scope });
    for (const kind of DETECTION_KINDS) this.detections.add(0, { kind });

    // Gauges read the store at scrape time, so they are right after a restart.
    meter
      .createObservableGauge('authwatch_sessions_active', { description: 'Sessions currently active.' })
      .addCallback(async (result) => {
        try {
          result.observe(await gauges.sessionsActive());
        } catch (err) {
          onGaugeError(err);
        }
      });
    meter
      .createObservableGauge('authwatch_accounts_locked', {
        description: 'Locks currently in force (users, user+IP pairs and IPs).',
      })
      .addCallback(async (result) => {
        try {
          result.observe(await gauges.accountsLocked());
        } catch (err) {
          onGaugeError(err);
        }
      });
  }

  /** Counts one committed batch. */
  record(events: readonly StoredEvent[]): void {
    const logins = new BatchCounts();
    const ingested = new BatchCounts();
    const lockouts = new BatchCounts();
    const detections = new BatchCounts();
    for (const e of events) {
      ingested.add({ type: e.type });
      if (e.type === 'login' && e.outcome) {
        logins.add({ outcome: e.outcome, reason: this.reason.value(e.reason), service: this.service.value(e.service) });
      } else if (e.type === 'lockout') {
        const scope = e.attributes?.scope;
        lockouts.add({ scope: typeof scope === 'string' ? this.scope.value(scope) : NONE });
      } else if (e.type === 'detection') {
        detections.add({ kind: this.kind.value(e.reason) });
      }
    }
    logins.flushTo(this.loginAttempts);
    ingested.flushTo(this.ingested);
    lockouts.flushTo(this.lockouts);
    detections.flushTo(this.detections);
  }
}
