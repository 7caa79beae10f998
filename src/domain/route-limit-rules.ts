/**
 * The unauthenticated routes that are limited, and their default limits per
 * hour: per caller IP, and per target address where the route acts on one.
 * Each is a system setting (`rate_limit.<route>.per_ip`, `…per_address`)
 * an administrator may tune within SETTING_RULES' range; 0 is not allowed,
 * so no limit can be switched off.
 */
export const LIMITED_ROUTES = {
  register: { endpoint: '/auth/register', per_ip: 20, per_address: 3 },
  verification_resend: { endpoint: '/auth/verify-email/resend', per_ip: 20, per_address: 3 },
  forgot_password: { endpoint: '/auth/password/forgot', per_ip: 20, per_address: 3 },
  reset_password: { endpoint: '/auth/password/reset', per_ip: 30 },
  restore: { endpoint: '/auth/restore', per_ip: 30, per_address: 10 },
  guest: { endpoint: '/auth/guest', per_ip: 30 },
  login_confirm: { endpoint: '/auth/login/confirm', per_ip: 60 },
  restore_confirm: { endpoint: '/auth/restore/confirm', per_ip: 60 },
  admin_login: { endpoint: '/admin/login', per_ip: 100, per_address: 100 },
  /**
   * Signed in, but each request mails the new address it names: counted per new address, so no account (nor
   * many of them) can spend another address's mail cap, and the owner's own reset link still gets through.
   */
  email_change: { endpoint: '/me/email', per_ip: 20, per_address: 3 },
  /** Mails to one address, whatever sent them: the cap behind every mail path. */
  mail: { endpoint: 'mail', per_address: 10 },
} as const satisfies Record<string, { endpoint: string; per_ip?: number; per_address?: number }>;

export type LimitedRoute = keyof typeof LIMITED_ROUTES;

export const limitSettingKey = (route: LimitedRoute, per: 'per_ip' | 'per_address') => `rate_limit.${route}.${per}`;
