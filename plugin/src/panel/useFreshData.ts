import { useEffect, useRef, useState } from 'react';
import type { PanelData } from '@grafana/data';
import { getAppEvents } from '@grafana/runtime';

import { AuthwatchChangedEvent, requery } from './refresh';

/**
 * The panel's data, replaced by a fresh run of its own query after an Authwatch action on this page
 * (AuthwatchChangedEvent). New data from the dashboard wins again as soon as it arrives.
 */
export function useFreshData(data: PanelData): PanelData {
  const [fresh, setFresh] = useState<{ base: PanelData; data: PanelData }>();
  const latest = useRef(data);
  useEffect(() => {
    latest.current = data;
  }, [data]);

  useEffect(() => {
    const sub = getAppEvents().subscribe(AuthwatchChangedEvent, () => {
      const base = latest.current;
      requery(base)
        .then((next) => {
          // Drop the answer if the dashboard delivered newer data meanwhile.
          if (next && latest.current === base) {
            setFresh({ base, data: next });
          }
        })
        // A failed re-run keeps what is shown; the dashboard's next refresh reports the error.
        .catch(() => undefined);
    });
    return () => sub.unsubscribe();
  }, []);

  return fresh && fresh.base === data ? fresh.data : data;
}
