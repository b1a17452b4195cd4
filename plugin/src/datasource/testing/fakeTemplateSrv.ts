import type { ScopedVars, TypedVariableModel } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

export interface FakeVariable {
  name: string;
  /** Current value; '$__all' (or ['$__all']) means "All" is selected. */
  value: string | string[];
  /** Every option the variable offers: what "All" expands to without a custom all value. */
  options?: string[];
  allValue?: string;
}

const VARIABLE = /\$(\w+)|\$\{(\w+)(?::([^}]*))?\}|\[\[(\w+)(?::([^\]]*))?\]\]/g;

/**
 * A TemplateSrv with Grafana's interpolation rules for the cases the data source relies on:
 * scoped variables win, "All" expands to every option (or the custom all value), a function
 * format receives multi values as an array, and unknown variables stay as written.
 */
export function fakeTemplateSrv(variables: FakeVariable[] = []): TemplateSrv {
  const byName = new Map(variables.map((v) => [v.name, v]));
  return {
    getVariables: () =>
      variables.map(
        (v) =>
          ({
            name: v.name,
            type: 'custom',
            current: { value: v.value, text: v.value },
            options: (v.options ?? []).map((o) => ({ value: o, text: o, selected: false })),
            allValue: v.allValue,
          }) as unknown as TypedVariableModel
      ),
    containsTemplate: (target?: string) => Boolean(target && new RegExp(VARIABLE.source).test(target)),
    updateTimeRange: () => undefined,
    replace(target?: string, scopedVars?: ScopedVars, format?: string | Function): string {
      if (!target) {
        return '';
      }
      return target.replace(VARIABLE, (match, a, b, fmtB, c, fmtC) => {
        const name: string = a ?? b ?? c;
        const inlineFormat: string | undefined = fmtB ?? fmtC;
        let value: unknown;
        if (scopedVars?.[name]) {
          value = scopedVars[name]?.value;
        } else {
          const variable = byName.get(name);
          if (!variable) {
            return match;
          }
          const current = variable.value;
          const isAll = Array.isArray(current) ? current.includes('$__all') : current === '$__all';
          value = isAll ? (variable.allValue ?? variable.options ?? []) : current;
        }
        const fmt = inlineFormat ?? format;
        if (typeof fmt === 'function') {
          return String(fmt(value));
        }
        if (Array.isArray(value)) {
          return fmt === 'csv' ? value.join(',') : `{${value.join(',')}}`;
        }
        return String(value);
      });
    },
  };
}
