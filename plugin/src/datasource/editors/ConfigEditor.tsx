import React, { type ChangeEvent } from 'react';
import {
  onUpdateDatasourceJsonDataOption,
  onUpdateDatasourceSecureJsonDataOption,
  updateDatasourcePluginResetOption,
  type DataSourcePluginOptionsEditorProps,
} from '@grafana/data';
import { Field, FieldSet, Input, SecretInput, Switch } from '@grafana/ui';
import type { AuthwatchOptions, AuthwatchSecureOptions } from '../types';

export type ConfigEditorProps = DataSourcePluginOptionsEditorProps<AuthwatchOptions, AuthwatchSecureOptions>;

/**
 * Collector URL and the two API keys. Keys go to secureJsonData: Grafana encrypts them and only
 * reports back secureJsonFields.<key> = true, so a saved key never returns to the browser; the
 * plugin.json routes add it to requests on the Grafana server.
 */
export function ConfigEditor(props: ConfigEditorProps) {
  const { options, onOptionsChange } = props;
  const { jsonData, secureJsonFields } = options;
  const secure = (options.secureJsonData ?? {}) as AuthwatchSecureOptions;

  const onToggle = (key: 'showDetails' | 'selfView') => (event: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, [key]: event.currentTarget.checked } });

  return (
    <>
      <FieldSet label="Collector">
        <Field
          label="Collector URL"
          description="Base URL of the Authwatch collector as the Grafana server reaches it, without /v1 (for example http://collector:4600)."
          required
        >
          <Input
            id="authwatch-url"
            width={60}
            value={jsonData.url ?? ''}
            placeholder="http://collector:4600"
            onChange={onUpdateDatasourceJsonDataOption(props, 'url')}
          />
        </Field>
        <Field
          label="Read key"
          description="An Authwatch API key with the read role. Used for every query; stored encrypted and never sent to browsers."
        >
          <SecretInput
            id="authwatch-read-key"
            width={60}
            isConfigured={Boolean(secureJsonFields?.readKey)}
            value={secure.readKey ?? ''}
            placeholder="read key"
            onChange={onUpdateDatasourceSecureJsonDataOption(props, 'readKey')}
            onReset={() => updateDatasourcePluginResetOption(props, 'readKey')}
          />
        </Field>
        <Field
          label="Admin key"
          description="An Authwatch API key with the admin role, for ending sessions and unlocking accounts. Only Grafana Editors and Admins can use it. Leave empty to disable actions."
        >
          <SecretInput
            id="authwatch-admin-key"
            width={60}
            isConfigured={Boolean(secureJsonFields?.adminKey)}
            value={secure.adminKey ?? ''}
            placeholder="admin key"
            onChange={onUpdateDatasourceSecureJsonDataOption(props, 'adminKey')}
            onReset={() => updateDatasourcePluginResetOption(props, 'adminKey')}
          />
        </Field>
      </FieldSet>
      <FieldSet label="Privacy">
        <Field
          label="Show IP, ISP and location"
          description="Adds IP address, ISP, ASN, city and coordinates to events and sessions. Off: country only."
        >
          <Switch id="authwatch-show-details" value={Boolean(jsonData.showDetails)} onChange={onToggle('showDetails')} />
        </Field>
        <Field
          label="Self view"
          description="Each Grafana user sees only their own events and sessions. Needs send_user_header = true in Grafana's [dataproxy] settings so the collector learns who is asking."
        >
          <Switch id="authwatch-self-view" value={Boolean(jsonData.selfView)} onChange={onToggle('selfView')} />
        </Field>
      </FieldSet>
    </>
  );
}
