export { AuditflowClient, AuditflowHttpError } from './client';
export { uuidv7 } from './uuidv7';
export { userAuditEvent } from './user-event';
export type { UserEventOptions, UserEventParams } from './user-event';
export type { AuditEventInput, AuditflowClientOptions, AuditflowEvent, AuditflowEventKind, DropReason, Rejection } from './types';
