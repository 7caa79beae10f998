import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { OutboundAddressPolicy } from '../../lib/outbound-address';

/**
 * POSTs `body` to `url` at the address the policy just checked, and nowhere
 * else: the connection's DNS lookup answers with that address, so a name
 * that resolves somewhere else a moment later (DNS rebinding) changes
 * nothing. Redirects are not followed: the status is returned as it is.
 */
export async function pinnedPost(url: URL, headers: Record<string, string>, body: string, policy: OutboundAddressPolicy, timeoutMs: number): Promise<number> {
  const { address, family } = await policy.check(url);
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    const request = transport.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup, timeout: timeoutMs, agent: false }, (response) => {
      response.resume();
      response.on('end', () => {
        clearTimeout(deadline);
        resolve(response.statusCode ?? 0);
      });
      response.on('error', reject);
    });
    // The socket's timeout is for idleness only: a receiver that trickles a byte at a time resets it for ever, and
    // would hold one of the delivery worker's slots, shared by every app. The whole call has this long.
    const deadline = setTimeout(() => request.destroy(new Error(`webhook did not finish within ${timeoutMs} ms`)), timeoutMs);
    request.on('timeout', () => request.destroy(new Error(`webhook did not answer within ${timeoutMs} ms`)));
    request.on('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    request.on('close', () => clearTimeout(deadline));
    request.end(body);
  });
}
