import type { QueuedEvent } from '../../../domain/event-row';
import { OWN_SOURCE_APP } from '../../../domain/own-source-app';
import { authOutcomeOf, wordsOf } from '../../../schemas/auth-outcome';
import { coordinatesOf, type Coordinates } from './geo';
import { networkOf, normalizeIp } from '../../../domain/network';

/** The event kinds the risk worker scores. */
export const SCORED_KINDS = new Set(['auth', 'failed_login']);

/** Failure reasons that say nothing about the password, so they do not count as failed guesses. */
const NOT_A_GUESS = new Set(['IP_BLOCKED', 'ACCOUNT_LOCKED', 'ACCOUNT_DISABLED', 'EMAIL_NOT_VERIFIED', 'STEP_UP_REQUIRED']);

/** What the risk worker reads from one auth or failed_login event. */
export interface RiskObservation {
  eventId: string;
  sourceApp: string;
  /**
   * One login attempt. An app may report an attempt twice (our own API sends
   * a failed_login and an auth event for each failed login); both carry the
   * same request or correlation id, and the attempt counts once.
   */
  attemptKey: string;
  /** The account: its user id, or `email:<address>` when only the email is known. */
  subject: string | null;
  userId: string | null;
  email: string | null;
  ip: string | null;
  network: string | null;
  device: string | null;
  coordinates: Coordinates | null;
  /** Event time, ms; never later than its receipt (a client's clock running ahead would skew every window). */
  at: number;
  /** When the API accepted it, ms. */
  receivedAt: number;
  /** A failed password (or other credential) check. */
  isFailure: boolean;
  /** A successful login: the device, network and place become known for the subject. */
  isSuccess: boolean;
  /** A login attempt of any outcome, for the attempt rate. */
  isAttempt: boolean;
  sessionId: string | null;
  /** The score the sending app computed itself, if any. */
  appScore: number;
  /** A login that passed a step-up (our API's mailed code): it does not ask for another. */
  steppedUp: boolean;
  /**
   * Whether the app shares IP reputation (our own API, or an app the operator
   * trusts): it counts into, and reads, the shared IP windows and may block an
   * IP; otherwise its IP windows are its own (see IpReputation).
   */
  sharesIpReputation: boolean;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function obj(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** `log_in`, `sign-in`, `logOn`, `SignOn`: two words that name a login together. */
const LOGIN_WORD_PAIRS = new Set(['log in', 'log on', 'sign in', 'sign on']);

/**
 * Whether an auth event's type names a login: every spelling ingest reads an
 * outcome from (words split on `_ . : -` and camelCase, as authOutcomeOf), so
 * that a type stored as a failure (`sign-in_failed`, `logon_failed`) is scored as one.
 */
function isLoginType(eventType: string): boolean {
  if (/login|sign_?in|authenticat/i.test(eventType) && !/logout/i.test(eventType)) return true;
  const words = wordsOf(eventType);
  return words.some((w, i) => w === 'logon' || w === 'signon' || w.startsWith('authenticat') || LOGIN_WORD_PAIRS.has(`${w} ${words[i + 1]}`));
}

/** A sent status that says failure in any of the words ingest reads one from (`FAILURE`, `FAILED`, `DENIED`…). */
function isFailureStatus(status: unknown): boolean {
  return typeof status === 'string' && (status === 'FAILURE' || authOutcomeOf(status) === 'FAILURE');
}

export function toObservation(event: QueuedEvent, sourceApp: string, receivedAt: string): RiskObservation | null {
  if (!SCORED_KINDS.has(event.kind)) return null;
  const e = event as unknown as Record<string, unknown>;
  const extra = event.kind === 'auth' ? obj(e.details) : obj(e.metadata);
  const ip = str(e.ip_address) ? normalizeIp(e.ip_address as string) : null;
  const occurred = Date.parse(String(e.occurred_at));
  const received = Date.parse(receivedAt);
  const at = Number.isFinite(occurred) ? Math.min(occurred, received) : received;
  const userId = str(e.user_id);
  const email = str(e.email_address)?.toLowerCase() ?? null;
  const eventType = String(e.event_type ?? '');
  const login = event.kind === 'failed_login' || isLoginType(eventType);
  // An auth event always has event_status: validation infers it from the type when the app sent none
  // (auth_user_event's `login_failed` alone is a FAILURE; src/schemas/auth-outcome.ts).
  const failed =
    event.kind === 'failed_login' ? !NOT_A_GUESS.has(String(e.failure_reason)) : login && isFailureStatus(e.event_status) && !NOT_A_GUESS.has(String(extra.reason ?? extra.failure_reason));
  // Our API names each attempt with an id of its own (LoginAudit): its request id may be the caller's X-Request-Id,
  // and one id sent with every guess would count them all as one attempt.
  const own = sourceApp === OWN_SOURCE_APP ? str(extra.attempt_id) : null;
  const ref = own ?? str(extra.request_id) ?? str(extra.correlation_id) ?? str(e.correlation_id) ?? event.event_id;
  return {
    eventId: event.event_id,
    sourceApp,
    attemptKey: `${sourceApp}|${ref}`,
    subject: userId ?? (email ? `email:${email}` : null),
    userId,
    email,
    ip,
    network: ip ? networkOf(ip) : null,
    device: str(e.device_fingerprint) ?? str(extra.device_fingerprint),
    coordinates: coordinatesOf(e.location ?? extra.location),
    at,
    receivedAt: received,
    isFailure: failed,
    isSuccess: event.kind === 'auth' && login && e.event_status === 'SUCCESS',
    isAttempt: login,
    sessionId: str(e.session_id),
    appScore: typeof e.risk_score === 'number' ? e.risk_score : 0,
    steppedUp: str(extra.step_up) !== null,
    sharesIpReputation: false,
  };
}
