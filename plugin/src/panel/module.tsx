import { PanelPlugin } from '@grafana/data';

import { SessionsPanel } from './components/SessionsPanel';
import { buildOptions } from './options';
import type { PanelOptions } from './types';

export const plugin = new PanelPlugin<PanelOptions>(SessionsPanel).setNoPadding().setPanelOptions(buildOptions);
