// Types for the router copy @grafana/ui bundles (resolved from @grafana/ui's directory by build.ts).
declare module 'react-router-dom-v5-compat' {
  import type { ComponentType, ReactNode } from 'react';
  export const MemoryRouter: ComponentType<{ children?: ReactNode; initialEntries?: string[] }>;
}
