import React, { useState, type ChangeEvent } from 'react';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import { Combobox, InlineField, InlineFieldRow, Input, MultiCombobox, RadioButtonGroup, type ComboboxOption } from '@grafana/ui';
import type { DataSource } from '../datasource';
import { STAT_FIELDS } from '../frames';
import { MAX_LIMIT, MAX_SESSIONS_LIMIT } from '../params';
import type {
  AuthwatchOptions,
  AuthwatchQuery,
  EventFilters,
  EventsFormat,
  GroupBy,
  LockoutState,
  QueryType,
  SessionState,
  StatName,
} from '../types';

export type QueryEditorPropsT = QueryEditorProps<DataSource, AuthwatchQuery, AuthwatchOptions>;

const QUERY_TYPES: Array<ComboboxOption<QueryType>> = [
  { label: 'Events', value: 'events', description: 'Login, logout, MFA, access… as a table or log lines' },
  { label: 'Sessions', value: 'sessions', description: 'Active or ended sessions' },
  { label: 'Lockouts', value: 'lockouts', description: 'Locked accounts, user+IP pairs and IPs' },
  { label: 'Time series', value: 'timeseries', description: 'Event counts per interval, grouped' },
  { label: 'Stats', value: 'stats', description: 'Logins, failures, failure ratio, active sessions…' },
  { label: 'Annotations', value: 'annotations', description: 'Lockouts, unlocks and admin actions' },
];

const FORMATS: Array<SelectableValue<EventsFormat>> = [
  { label: 'Table', value: 'table' },
  { label: 'Logs', value: 'logs' },
];

const SESSION_STATES: Array<SelectableValue<SessionState>> = [
  { label: 'Active', value: 'active' },
  { label: 'Ended', value: 'ended' },
  { label: 'All', value: 'all' },
];

const LOCKOUT_STATES: Array<SelectableValue<LockoutState>> = [
  { label: 'Locked now', value: 'locked' },
  { label: 'All', value: 'all' },
];

const GROUP_BY: Array<ComboboxOption<GroupBy>> = [
  { label: 'Outcome', value: 'outcome' },
  { label: 'Reason', value: 'reason' },
  { label: 'Service', value: 'service' },
  { label: 'Country', value: 'country' },
  { label: 'Type', value: 'type' },
];

const STATS: Array<ComboboxOption<StatName>> = (Object.keys(STAT_FIELDS) as StatName[]).map((name) => ({
  label: STAT_FIELDS[name].displayName ?? name,
  value: name,
}));

const FILTERS: Array<{ key: keyof EventFilters; label: string; placeholder: string }> = [
  { key: 'user', label: 'User', placeholder: 'alice or $user' },
  { key: 'eventType', label: 'Type', placeholder: 'login,mfa or $type' },
  { key: 'outcome', label: 'Outcome', placeholder: 'success | failure' },
  { key: 'reason', label: 'Reason', placeholder: 'invalid_password' },
  { key: 'ip', label: 'IP', placeholder: '203.0.113.7' },
  { key: 'service', label: 'Service', placeholder: 'portal or $service' },
  { key: 'country', label: 'Country', placeholder: 'DE or $country' },
  { key: 'search', label: 'Text', placeholder: 'free text' },
];

/** Which filters each query type sends to the collector. */
const FILTERS_FOR: Record<QueryType, Array<keyof EventFilters>> = {
  events: FILTERS.map((f) => f.key),
  annotations: FILTERS.map((f) => f.key),
  timeseries: FILTERS.map((f) => f.key),
  stats: FILTERS.map((f) => f.key),
  sessions: ['user'],
  lockouts: ['user'],
};

/** A text box that updates the query on blur, so typing doesn't fire a request per key. */
function TextFilter(props: { id: string; value?: string; placeholder: string; onCommit: (value: string) => void }) {
  const [draft, setDraft] = useState(props.value ?? '');
  return (
    <Input
      id={props.id}
      width={24}
      value={draft}
      placeholder={props.placeholder}
      onChange={(e: ChangeEvent<HTMLInputElement>) => setDraft(e.currentTarget.value)}
      onBlur={() => draft !== (props.value ?? '') && props.onCommit(draft)}
    />
  );
}

export function QueryEditor({ query, onChange, onRunQuery }: QueryEditorPropsT) {
  const queryType = query.queryType ?? 'events';
  const update = (patch: Partial<AuthwatchQuery>) => {
    onChange({ ...query, ...patch });
    onRunQuery();
  };

  return (
    <>
      <InlineFieldRow>
        <InlineField label="Query" labelWidth={12}>
          <Combobox
            id={`authwatch-query-type-${query.refId}`}
            width={20}
            options={QUERY_TYPES}
            value={queryType}
            onChange={(v) => update({ queryType: v.value })}
          />
        </InlineField>
        {queryType === 'events' && (
          <InlineField label="Format">
            <RadioButtonGroup options={FORMATS} value={query.format ?? 'table'} onChange={(v) => update({ format: v })} />
          </InlineField>
        )}
        {queryType === 'sessions' && (
          <InlineField label="State">
            <RadioButtonGroup
              options={SESSION_STATES}
              value={query.sessionState ?? 'active'}
              onChange={(v) => update({ sessionState: v })}
            />
          </InlineField>
        )}
        {queryType === 'lockouts' && (
          <InlineField label="State">
            <RadioButtonGroup
              options={LOCKOUT_STATES}
              value={query.lockoutState ?? 'locked'}
              onChange={(v) => update({ lockoutState: v })}
            />
          </InlineField>
        )}
        {queryType === 'timeseries' && (
          <InlineField label="Group by" tooltip="Buckets follow the panel's interval ($__interval)">
            <Combobox
              id={`authwatch-group-by-${query.refId}`}
              width={16}
              options={GROUP_BY}
              value={query.groupBy ?? 'outcome'}
              onChange={(v) => update({ groupBy: v.value })}
            />
          </InlineField>
        )}
        {queryType === 'stats' && (
          <InlineField label="Stats" tooltip="All when empty">
            <MultiCombobox
              id={`authwatch-stats-${query.refId}`}
              width={60}
              options={STATS}
              value={query.stats ?? []}
              onChange={(v) => update({ stats: v.map((s) => s.value) })}
            />
          </InlineField>
        )}
        {(queryType === 'events' || queryType === 'sessions' || queryType === 'annotations') && (
          <InlineField label="Limit" tooltip={`Rows to fetch, at most ${queryType === 'sessions' ? '50,000' : '1,000'}`}>
            <Input
              id={`authwatch-limit-${query.refId}`}
              type="number"
              width={10}
              min={1}
              max={queryType === 'sessions' ? MAX_SESSIONS_LIMIT : MAX_LIMIT}
              defaultValue={query.limit ?? 500}
              onBlur={(e) => update({ limit: Number(e.currentTarget.value) || undefined })}
            />
          </InlineField>
        )}
      </InlineFieldRow>
      <InlineFieldRow>
        {FILTERS.filter((f) => FILTERS_FOR[queryType].includes(f.key)).map((f) => (
          <InlineField key={f.key} label={f.label} labelWidth={f.key === 'user' ? 12 : undefined} tooltip="Template variables allowed; comma-separate several values">
            <TextFilter
              id={`authwatch-${f.key}-${query.refId}`}
              value={query[f.key]}
              placeholder={queryType === 'annotations' && f.key === 'eventType' ? 'lockout,unlock,admin' : f.placeholder}
              onCommit={(value) => update({ [f.key]: value || undefined })}
            />
          </InlineField>
        ))}
      </InlineFieldRow>
    </>
  );
}
