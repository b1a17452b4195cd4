import { DataSourcePlugin } from '@grafana/data';
import { DataSource } from './datasource';
import { ConfigEditor } from './editors/ConfigEditor';
import { QueryEditor } from './editors/QueryEditor';
import type { AuthwatchQuery, AuthwatchOptions } from './types';

export const plugin = new DataSourcePlugin<DataSource, AuthwatchQuery, AuthwatchOptions>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
