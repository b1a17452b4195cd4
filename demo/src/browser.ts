// One simulated browser: a user agent, a client address (sent as X-Forwarded-For, which the demo
// app trusts from loopback) and a cookie jar. Talks to the demo app over real HTTP.

export interface HttpAnswer {
  status: number;
  retryAfter: string | null;
  body: unknown;
}

export class SimulatedBrowser {
  private cookies = new Map<string, string>();

  constructor(
    private readonly baseUrl: string,
    readonly userAgent: string,
    public ip: string,
  ) {}

  hasCookie(name: string): boolean {
    return this.cookies.has(name);
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async request(method: 'GET' | 'POST', path: string, body?: Record<string, string>): Promise<HttpAnswer> {
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      'x-forwarded-for': this.ip,
      accept: 'application/json',
    };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(5_000),
    });
    for (const line of res.headers.getSetCookie()) this.storeCookie(line);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // HTML page: keep the text
    }
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: parsed };
  }

  private storeCookie(line: string): void {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attrs.some((a) => /^\s*expires=thu, 01 jan 1970/i.test(a)) || value === '';
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}
