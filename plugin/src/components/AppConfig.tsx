import React, { useState } from 'react';
import { lastValueFrom } from 'rxjs';
import type { AppPluginMeta, PluginConfigPageProps } from '@grafana/data';
import { getBackendSrv } from '@grafana/runtime';
import { Alert, Button, FieldSet, Text } from '@grafana/ui';
import { testIds } from './testIds';

export interface AppConfigProps extends PluginConfigPageProps<AppPluginMeta> {}

/** Enables or disables the app. Collector settings live on the Authwatch data source, not here. */
export default function AppConfig({ plugin }: AppConfigProps) {
  const { enabled, pinned } = plugin.meta;
  const [error, setError] = useState<string>();

  const setEnabled = async (value: boolean) => {
    try {
      await lastValueFrom(
        getBackendSrv().fetch({
          url: `/api/plugins/${plugin.meta.id}/settings`,
          method: 'POST',
          data: { enabled: value, pinned: value ? pinned : false, jsonData: plugin.meta.jsonData ?? {} },
        })
      );
      // Grafana reads app settings at page load; reload so navigation reflects the change.
      window.location.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : 'Could not update the app settings');
    }
  };

  return (
    <FieldSet label="Authwatch app">
      <Text element="p">
        The collector URL and API keys are set on the Authwatch data source (Connections → Data sources), where Grafana
        stores the keys encrypted and adds them to requests on the server.
      </Text>
      {error && <Alert title={error} severity="error" />}
      {enabled ? (
        <Button variant="destructive" data-testid={testIds.appConfig.disable} onClick={() => setEnabled(false)}>
          Disable app
        </Button>
      ) : (
        <Button data-testid={testIds.appConfig.enable} onClick={() => setEnabled(true)}>
          Enable app
        </Button>
      )}
    </FieldSet>
  );
}
