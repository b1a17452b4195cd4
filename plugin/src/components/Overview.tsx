import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Card, LinkButton, Stack, Text, TextLink, useStyles2 } from '@grafana/ui';
import { DASHBOARDS, DATASOURCE_TYPE, PLUGIN_ID } from '../constants';
import { testIds } from './testIds';

/** The app's landing page: what Authwatch is, where its dashboards are, how to connect a collector. */
export function Overview() {
  const s = useStyles2(getStyles);
  return (
    <div className={s.page} data-testid={testIds.overview.container}>
      <Text element="p" color="secondary">
        Authwatch shows who logs in to your applications, from where and with what result, and lets you end
        sessions and unlock accounts.
      </Text>
      <Stack direction="column" gap={1}>
        <Text element="h3">Dashboards</Text>
        {DASHBOARDS.map((d) => (
          <Card key={d.uid} href={`/d/${d.uid}`}>
            <Card.Heading>{d.title}</Card.Heading>
            <Card.Description>{d.description}</Card.Description>
          </Card>
        ))}
        <Text element="p" color="secondary">
          The dashboards are imported from the app&apos;s{' '}
          <TextLink href={`/plugins/${PLUGIN_ID}?page=dashboards`}>Dashboards tab</TextLink>.
        </Text>
      </Stack>
      <Stack direction="column" gap={1}>
        <Text element="h3">Connect a collector</Text>
        <Text element="p">
          Add an Authwatch data source with the collector URL and a read key (and an admin key for actions).
        </Text>
        <Stack direction="row" gap={1}>
          <LinkButton
            href={`/connections/datasources/${DATASOURCE_TYPE}`}
            icon="plus"
            data-testid={testIds.overview.addDatasource}
          >
            Add Authwatch data source
          </LinkButton>
          <LinkButton href={`/plugins/${PLUGIN_ID}`} variant="secondary" icon="cog">
            App configuration
          </LinkButton>
          <LinkButton href="/explore" variant="secondary" icon="compass">
            Explore events
          </LinkButton>
        </Stack>
      </Stack>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(3), maxWidth: 900 }),
});
