// ESM entry: a thin wrapper over the CommonJS build, so an app that both
// imports and requires the SDK gets one module instance (no dual-package hazard).
import sdk from '../dist/clients/typescript/src/index.js';

export const { AuditflowClient, AuditflowHttpError, uuidv7, userAuditEvent } = sdk;
export default sdk;
