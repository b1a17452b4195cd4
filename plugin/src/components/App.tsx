import React from 'react';
import type { AppRootProps } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import { Overview } from './Overview';

export default function App(_props: AppRootProps) {
  return (
    <PluginPage>
      <Overview />
    </PluginPage>
  );
}
