import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { LIMITED_ROUTES, limitSettingKey, type LimitedRoute } from '../../domain/route-limit-rules';
import { AppError } from '../../lib/errors/app-error';
import type { Logger } from '../../lib/logger';
import type { EventPublisher } from '../../queues/event-publisher';
import { callerOf, ipv6SiteOf, SITE_FACTOR } from '../../domain/network';
import type { SettingsService } from '../settings/settings.service';

const HOUR_SECONDS = 3600;

type Per = 'per_ip' | 'per_site' | 'per_address';

/**
 * Per-IP and per-address limits on the routes anyone can call without a
 * credential (register, forgot, reset, restore, guest, login confirm, admin
 * login…), counted in Redis so every API process shares them. A limit hit
 * answers 429 with Retry-After and is a `rate_limit` event. With Redis
 * unreachable each process counts on its own, in memory, with the same
 * limits: refusing every password reset during a Redis outage would be
 * worse, but switching the limits off let one client mail a victim's inbox
 * without bound (the mail cap is one of these limits) for as long as the
 * outage lasted.
 */
const FROM: Record<Per, string> = { per_ip: 'from this address', per_site: 'from this network (IPv6 /48)', per_address: 'for this account' };

export class RouteLimits {
  private readonly limiters = new Map<string, RateLimiterRedis>();
  private redisFailing = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly settings: SettingsService,
    private readonly events: EventPublisher | undefined,
    private readonly logger: Logger,
  ) {}

  /** Middleware: one point per request against the caller's IP and, when `target` names one, the address it acts on. */
  middleware(route: LimitedRoute, target?: (req: Request) => string | undefined) {
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      const ctx = res.locals.ctx;
      const address = target?.(req)?.trim().toLowerCase() || undefined;
      await this.consume(route, 'per_ip', (ctx.ip && callerOf(ctx.ip)) ?? ctx.ip ?? 'unknown', ctx);
      const site = ctx.ip ? ipv6SiteOf(ctx.ip) : null;
      if (site) await this.consume(route, 'per_site', site, ctx);
      if (address) await this.consume(route, 'per_address', address, ctx);
      next();
    };
  }

  /** Whether one more mail may go to `address` this hour (the mail cap); false is recorded as a rate_limit event. */
  async mayMail(address: string): Promise<boolean> {
    try {
      await this.consume('mail', 'per_address', address.trim().toLowerCase(), undefined);
      return true;
    } catch (error) {
      if (error instanceof AppError && error.code === 'RATE_LIMITED') return false;
      throw error;
    }
  }

  private async consume(route: LimitedRoute, per: Per, key: string, ctx: Response['locals']['ctx'] | undefined): Promise<void> {
    const points = await this.pointsOf(route, per);
    if (points <= 0) return;
    const redisReady = this.redis.status === 'ready';
    if (!redisReady && !this.redisFailing) this.logger.warn({ route }, 'Redis is unreachable: rate limits are counted in this process alone until it is back');
    this.redisFailing = !redisReady;
    try {
      await this.limiter(route, per, points).consume(key);
    } catch (rejection) {
      // Neither Redis nor the in-memory insurance could count it (not expected): this request is not limited.
      if (!(rejection instanceof RateLimiterRes)) {
        this.logger.warn({ err: rejection, route }, 'could not count a rate-limited request');
        return;
      }
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      this.events?.publish(
        {
          kind: 'rate_limit',
          violation_type: `${route}_${per}`,
          endpoint: LIMITED_ROUTES[route].endpoint,
          ip_address: ctx?.ip ?? '0.0.0.0',
          user_agent: ctx?.userAgent ?? null,
          request_count: rejection.consumedPoints,
          limit_threshold: points,
          time_window_minutes: HOUR_SECONDS / 60,
          blocked_duration_minutes: Math.ceil(retryAfter / 60),
          unblocked_at: new Date(Date.now() + rejection.msBeforeNext).toISOString(),
        },
        { bestEffort: true },
      );
      throw new AppError('RATE_LIMITED', `too many requests to ${LIMITED_ROUTES[route].endpoint} ${FROM[per]}; try again in ${retryAfter} s`, {
        retryAfterSeconds: retryAfter,
      });
    }
  }

  /** A route's limit per hour: its setting, or for a site SITE_FACTOR times the per-IP one (so tuning per_ip tunes both). */
  private async pointsOf(route: LimitedRoute, per: Per): Promise<number> {
    const defaults: { per_ip?: number; per_address?: number } = LIMITED_ROUTES[route];
    if (per === 'per_site') return SITE_FACTOR * (await this.settings.integer(limitSettingKey(route, 'per_ip'), defaults.per_ip ?? 0));
    return this.settings.integer(limitSettingKey(route, per), defaults[per] ?? 0);
  }

  private limiter(route: LimitedRoute, per: string, points: number): RateLimiterRedis {
    const name = `${route}:${per}:${points}`;
    let limiter = this.limiters.get(name);
    if (!limiter) {
      const keyPrefix = `${this.prefix}:rl:${route}:${per}`;
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix,
        points,
        duration: HOUR_SECONDS,
        rejectIfRedisNotReady: true,
        // While Redis cannot count, this process does: the limits hold per process instead of not at all.
        insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration: HOUR_SECONDS }),
      });
      this.limiters.set(name, limiter);
    }
    return limiter;
  }
}

/** The limit of `route` on a router, or nothing where the app was built without limits (the OpenAPI test). */
export function rateLimited(limits: RouteLimits | undefined, route: LimitedRoute, target?: (req: Request) => string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!limits) {
      next();
      return;
    }
    limits.middleware(route, target)(req, res, next).catch(next);
  };
}

/** The `email` field of a JSON body, for the per-address limit. */
export const emailOfBody = (req: Request): string | undefined => {
  const email = (req.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.slice(0, 320) : undefined;
};
