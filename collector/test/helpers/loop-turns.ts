// Counts event-loop turns (setImmediate callbacks) until stopped: how tests see that work gave the
// loop back (an export, a sliced load, a sliced parse) without timing anything.
export function ticker(): { stop(): number } {
  let n = 0;
  let on = true;
  const tick = () => {
    if (!on) return;
    n++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop() {
      on = false;
      return n;
    },
  };
}
