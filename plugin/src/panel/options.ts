import type { PanelOptionsEditorBuilder } from '@grafana/data';

import type { PanelOptions } from './types';

export function buildOptions(builder: PanelOptionsEditorBuilder<PanelOptions>): PanelOptionsEditorBuilder<PanelOptions> {
  return builder
    .addRadio({
      path: 'mode',
      name: 'Show',
      description: 'Sessions needs a Sessions query, Lockouts a Lockouts query',
      defaultValue: 'sessions',
      settings: {
        options: [
          { value: 'sessions', label: 'Sessions', icon: 'users-alt' },
          { value: 'lockouts', label: 'Lockouts', icon: 'lock' },
        ],
      },
    })
    .addBooleanSwitch({
      path: 'showActions',
      name: 'Row actions',
      description: 'End sessions and unlock accounts (shown to Editors and Admins only)',
      defaultValue: true,
    })
    .addBooleanSwitch({
      path: 'showExport',
      name: 'Export CSV button',
      defaultValue: true,
    });
}
