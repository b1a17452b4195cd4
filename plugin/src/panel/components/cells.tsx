// Cell renderers: status badge, location with flag, device, times, lock countdown.
import React from 'react';
import { css } from '@emotion/css';
import { dateTimeFormat, dateTimeFormatTimeAgo, GrafanaTheme2, IconName } from '@grafana/data';
import { Badge, Icon, useStyles2 } from '@grafana/ui';

import { countryName, flagEmoji, formatCountdown, humanize, isPrivateCountry, scopeLabels } from '../format';
import type { LockoutViewRow, SessionViewRow } from '../types';

const getStyles = (theme: GrafanaTheme2) => ({
  stack: css({ display: 'flex', flexDirection: 'column', minWidth: 0, lineHeight: 1.25 }),
  line: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(0.75), minWidth: 0 }),
  ellipsis: css({ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', minWidth: 0 }),
  secondary: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  flag: css({ fontSize: '16px', lineHeight: 1, fontFamily: '"Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", sans-serif' }),
  muted: css({ color: theme.colors.text.disabled }),
  warning: css({ color: theme.colors.warning.text, fontVariantNumeric: 'tabular-nums' }),
  mono: css({ fontFamily: theme.typography.fontFamilyMonospace, fontSize: theme.typography.bodySmall.fontSize }),
});

export function Muted({ children }: { children: React.ReactNode }) {
  const styles = useStyles2(getStyles);
  return <span className={styles.muted}>{children}</span>;
}

export function SessionStatus({ row }: { row: SessionViewRow }) {
  if (row.state === 'active') {
    return <Badge color="green" icon="check-circle" text="Active" />;
  }
  const reason = humanize(row.endReason);
  const badge = <Badge color={row.endReason === 'terminated_by_admin' ? 'orange' : 'darkgrey'} text="Ended" />;
  // A native title, not a Tooltip: cheap enough for every row of a long, scrolling table.
  return reason ? <span title={`Ended: ${reason}`}>{badge}</span> : badge;
}

export function LocationCell({ country, city }: { country: string | null; city: string | null }) {
  const styles = useStyles2(getStyles);
  if (!country) {
    return <Muted>Unknown</Muted>;
  }
  if (isPrivateCountry(country)) {
    return (
      <span className={styles.line} title="Private or internal address">
        <Icon name="home-alt" size="sm" />
        <span className={styles.ellipsis}>Private network</span>
      </span>
    );
  }
  const flag = flagEmoji(country);
  const name = countryName(country);
  return (
    <span className={styles.line} title={city ? `${city}, ${name}` : name}>
      {flag && (
        <span className={styles.flag} aria-hidden>
          {flag}
        </span>
      )}
      <span className={styles.ellipsis}>
        {name}
        {city && <span className={styles.secondary}> · {city}</span>}
      </span>
    </span>
  );
}

function deviceIcon(type: string | null): IconName {
  return type === 'mobile' || type === 'tablet' || type === 'wearable' ? 'mobile-android' : 'monitor';
}

export function DeviceCell({ row }: { row: SessionViewRow }) {
  const styles = useStyles2(getStyles);
  const main = [row.browser, row.os].filter(Boolean).join(' · ');
  if (!main && !row.device) {
    return <Muted>Unknown</Muted>;
  }
  return (
    <span className={styles.line} title={[main, row.device].filter(Boolean).join(' — ')}>
      <Icon name={deviceIcon(row.deviceType)} size="sm" />
      <span className={styles.ellipsis}>
        {main || row.device}
        {main && row.device && <span className={styles.secondary}> · {row.device}</span>}
      </span>
    </span>
  );
}

export function TimeCell({ value, timeZone, relative }: { value: number | null; timeZone: string; relative?: boolean }) {
  if (value === null) {
    return <Muted>—</Muted>;
  }
  const absolute = dateTimeFormat(value, { timeZone });
  return <span title={absolute}>{relative ? dateTimeFormatTimeAgo(value, { timeZone }) : absolute}</span>;
}

export function IpCell({ ip }: { ip: string | null }) {
  const styles = useStyles2(getStyles);
  return ip ? <span className={styles.mono}>{ip}</span> : <Muted>—</Muted>;
}

export function ScopeBadge({ row }: { row: LockoutViewRow }) {
  const color = row.scope === 'ip' ? 'red' : row.scope === 'user_ip' ? 'purple' : 'orange';
  const icon: IconName = row.scope === 'ip' ? 'shield-exclamation' : 'lock';
  return <Badge color={color} icon={icon} text={scopeLabels[row.scope] ?? row.scope} />;
}

export function LockedUntil({ row, now }: { row: LockoutViewRow; now: number }) {
  const styles = useStyles2(getStyles);
  if (row.lockedUntil === null) {
    return (
      <span className={styles.line}>
        <Icon name="lock" size="sm" />
        Until unlocked
      </span>
    );
  }
  const left = row.lockedUntil - now;
  if (left <= 0) {
    return <Muted>Expired</Muted>;
  }
  return (
    <span className={styles.warning} title={new Date(row.lockedUntil).toISOString()}>
      {formatCountdown(left)} left
    </span>
  );
}
