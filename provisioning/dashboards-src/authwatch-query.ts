// Typed builder for Authwatch data source queries. The query model is the plugin's own
// (plugin/src/datasource/types.ts), imported as a type so a renamed field breaks generation.

import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as common from '@grafana/grafana-foundation-sdk/common';
import type { AuthwatchQuery } from '../../plugin/src/datasource/types';
import { AUTHWATCH, dsRef } from './datasources';

/** The dashboard's Authwatch data source variable (never a fixed uid). */
export const AUTHWATCH_DS: common.DataSourceRef = dsRef(AUTHWATCH);

/** The query fields a dashboard sets (refId and datasource are filled in by the builder). */
export type AuthwatchQueryFields = Omit<AuthwatchQuery, 'refId' | 'datasource' | 'key'>;

export type AuthwatchDataquery = AuthwatchQueryFields & {
  refId: string;
  datasource: common.DataSourceRef;
  _implementsDataqueryVariant(): void;
};

export class AuthwatchQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly fields: AuthwatchQueryFields;
  private ref = 'A';

  constructor(fields: AuthwatchQueryFields) {
    this.fields = { ...fields };
  }

  refId(refId: string): this {
    this.ref = refId;
    return this;
  }

  build(): AuthwatchDataquery {
    return {
      refId: this.ref,
      datasource: AUTHWATCH_DS,
      ...this.fields,
      _implementsDataqueryVariant() {},
    };
  }
}

/** Shorthand: authwatch({ queryType: 'stats', stats: ['logins'] }). */
export function authwatch(fields: AuthwatchQueryFields): AuthwatchQueryBuilder {
  return new AuthwatchQueryBuilder(fields);
}

/** Filters every Login activity panel applies: the dashboard's user and service variables. */
export const VARIABLE_FILTERS: Pick<AuthwatchQueryFields, 'user' | 'service'> = {
  user: '$user',
  service: '$service',
};
