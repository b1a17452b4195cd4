import type { ScopedVars, TimeRange } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';
import type { Params } from './client';
import type { AuthwatchQuery, EventFilters } from './types';

/** Query field → collector filter parameter. */
export const FILTER_PARAMS: ReadonlyArray<[keyof EventFilters, string]> = [
  ['user', 'user'],
  ['eventType', 'type'],
  ['outcome', 'outcome'],
  ['reason', 'reason'],
  ['ip', 'ip'],
  ['service', 'service'],
  ['country', 'country'],
  ['search', 'q'],
];

const ALL = '$__all';
// Separates the values of a multi-value variable; cannot occur in a typed filter.
const SEP = '\u001f';

/** A filter that is exactly one variable reference: $var, ${var}, ${var:fmt} or [[var]]. */
const SINGLE_VARIABLE = /^\s*(?:\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\])\s*$/;

function isAllSelected(templateSrv: TemplateSrv, text: string, scopedVars: ScopedVars): boolean {
  const match = SINGLE_VARIABLE.exec(text);
  const name = match && (match[1] ?? match[2] ?? match[3]);
  // A repeated panel/row pins the variable to one value through scopedVars.
  if (!name || scopedVars[name]) {
    return false;
  }
  const variable = templateSrv.getVariables().find((v) => v.name === name);
  if (!variable || !('current' in variable) || !variable.current) {
    return false;
  }
  const value = variable.current.value;
  return Array.isArray(value) ? value.includes(ALL) : value === ALL;
}

/**
 * Interpolates one filter. Returns undefined when it is empty or when it is a variable set to
 * "All" (no filter: every value, including ones not in the variable's list), otherwise the
 * values — several for a multi-value variable, sent as repeated parameters.
 */
export function interpolateFilter(
  templateSrv: TemplateSrv,
  text: string | undefined,
  scopedVars: ScopedVars = {}
): string[] | undefined {
  if (text === undefined || text.trim() === '') {
    return undefined;
  }
  if (isAllSelected(templateSrv, text, scopedVars)) {
    return undefined;
  }
  const replaced = templateSrv.replace(text, scopedVars, (value: unknown) =>
    Array.isArray(value) ? value.map(String).join(SEP) : String(value)
  );
  const values = replaced
    .split(SEP)
    .map((v) => v.trim())
    .filter((v) => v !== '' && v !== ALL);
  return values.length ? values : undefined;
}

/** The collector's filter parameters for a query, variables interpolated. */
export function filterParams(query: AuthwatchQuery, templateSrv: TemplateSrv, scopedVars: ScopedVars = {}): Params {
  const params: Params = {};
  for (const [field, param] of FILTER_PARAMS) {
    const values = interpolateFilter(templateSrv, query[field], scopedVars);
    if (values) {
      params[param] = values.length === 1 ? values[0] : values;
    }
  }
  return params;
}

export function rangeParams(range: TimeRange): Params {
  return { from: range.from.valueOf(), to: range.to.valueOf() };
}

export const MAX_LIMIT = 1000;
/** Sessions are listed whole by the sessions panel (virtualized, 10k+ rows); the collector allows 50,000. */
export const MAX_SESSIONS_LIMIT = 50_000;

export function clampLimit(limit: number | undefined, fallback: number, max = MAX_LIMIT): number {
  if (!limit || !Number.isFinite(limit) || limit < 1) {
    return fallback;
  }
  return Math.min(Math.floor(limit), max);
}
