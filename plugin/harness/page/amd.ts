// A tiny AMD loader, standing in for Grafana's SystemJS: loads a plugin's module.js with a script
// tag and resolves its define([...deps], factory) against the shared modules the page provides.

type Factory = (...deps: unknown[]) => unknown;

const loaded = new Map<string, Promise<unknown>>();
const pending = new Map<string, { resolve: (m: unknown) => void; reject: (e: Error) => void }>();
let shared: Record<string, unknown> = {};

/** Names the host provides; a module asking for anything else fails with that name. */
export function provideShared(modules: Record<string, unknown>): void {
  shared = modules;
}

export function sharedNames(): string[] {
  return Object.keys(shared);
}

function define(deps: string[] | Factory, factory?: Factory): void {
  const script = document.currentScript as HTMLScriptElement | null;
  const url = script?.src ?? '';
  const waiter = pending.get(url);
  if (!waiter) {
    throw new Error(`define() called outside a module loaded by the harness (${url || 'inline'})`);
  }
  const depNames = Array.isArray(deps) ? deps : [];
  const fn = (Array.isArray(deps) ? factory : deps) as Factory;
  const exportsObject: Record<string, unknown> = {};
  const missing = depNames.filter((d) => d !== 'module' && d !== 'exports' && d !== 'require' && !(d in shared));
  if (missing.length) {
    waiter.reject(new Error(`${url} needs modules the page does not provide: ${missing.join(', ')}`));
    return;
  }
  const args = depNames.map((d) => {
    if (d === 'module') {
      return { id: url, uri: url };
    }
    if (d === 'exports') {
      return exportsObject;
    }
    if (d === 'require') {
      return (name: string) => shared[name];
    }
    return shared[d];
  });
  try {
    const result = fn(...args);
    waiter.resolve(result === undefined ? exportsObject : result);
  } catch (err) {
    waiter.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
(define as unknown as { amd: object }).amd = {};

export function installDefine(): void {
  (window as unknown as { define: typeof define }).define = define;
}

/** Loads an AMD module by URL (once) and returns what its factory returned. */
export function importModule(path: string): Promise<unknown> {
  const url = new URL(path, window.location.href).toString();
  let promise = loaded.get(url);
  if (!promise) {
    promise = new Promise<unknown>((resolve, reject) => {
      pending.set(url, { resolve, reject });
      const script = document.createElement('script');
      script.src = url;
      script.async = true;
      script.onerror = () => reject(new Error(`could not load ${url}`));
      script.onload = () => {
        // A script that never called define() would otherwise hang the caller.
        setTimeout(() => reject(new Error(`${url} loaded but did not call define()`)), 0);
      };
      document.head.appendChild(script);
    }).finally(() => pending.delete(url));
    loaded.set(url, promise);
  }
  return promise;
}
