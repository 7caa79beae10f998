/**
 * What logins read of the risk worker's state in Redis. Declared here and met
 * by the risk feature's IpBlocks and RiskState, so auth does not import the
 * risk feature: the risk worker locks accounts and ends sessions through
 * auth's repositories, and imports between the two run that one way.
 */

/** IPs the risk worker blocked (risk/state/ip-blocks.ts). */
export interface BlockedIps {
  /** Seconds until `ip` may log in again; 0 when it is not blocked. */
  retryAfterSeconds(ip: string): Promise<number>;
}

/** Devices and networks seen at an account's successful logins (risk/state/risk-state.ts). */
export interface LoginHistory {
  isFamiliar(sourceApp: string, subject: string, device: string | null, ip: string | null): Promise<boolean>;
}
