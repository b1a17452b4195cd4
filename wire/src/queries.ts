// Answers of the read API's aggregate endpoints.
import { Type, type Static } from '@sinclair/typebox';

export const TimeseriesSchema = Type.Object({
  interval_ms: Type.Integer(),
  series: Type.Array(
    Type.Object({
      key: Type.String({ description: '"total" without group_by; else the group value ("unknown" when missing)' }),
      points: Type.Array(Type.Tuple([Type.Integer({ description: 'bucket start, epoch ms' }), Type.Integer({ description: 'count' })])),
    }),
  ),
});
export type Timeseries = Static<typeof TimeseriesSchema>;

export const STAT_NAMES = ['logins', 'failures', 'failure_ratio', 'active_sessions', 'locked_accounts', 'unique_users'] as const;
export type StatName = (typeof STAT_NAMES)[number];

export const StatsSchema = Type.Object({
  logins: Type.Integer(),
  failures: Type.Integer(),
  failure_ratio: Type.Number(),
  active_sessions: Type.Integer(),
  locked_accounts: Type.Integer(),
  unique_users: Type.Integer(),
});
export type Stats = Static<typeof StatsSchema>;

export const ValuesSchema = Type.Object({ values: Type.Array(Type.String()) });
export type Values = Static<typeof ValuesSchema>;

export const WhoamiSchema = Type.Object({ role: Type.String(), key: Type.String() });
export type Whoami = Static<typeof WhoamiSchema>;
