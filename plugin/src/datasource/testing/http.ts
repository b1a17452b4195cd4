import { request as httpRequest } from 'node:http';

export interface HttpResult {
  status: number;
  contentType: string;
  text: string;
}

/**
 * A plain HTTP call with Node's http module. Jest runs these tests in jsdom, which has no fetch,
 * and the data source only ever talks to Grafana (here: to the collector through the proxy stand-in).
 */
export function http(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body).toString() } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') })
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
