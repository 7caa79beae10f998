import { ADMIN_LEVELS } from '../admin/admin-levels';
import type { ApiOperation } from '../../http/api-operation';
import { updatePolicyBody } from './retention.schemas';

const unauthenticated = { 401: 'No API key or administrator session, or not a valid one' };
const security: ApiOperation['security'] = ['apiKey', 'adminSession'];

export const retentionOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/retention-policies',
    tag: 'retention',
    summary: 'Every table’s retention policy: retention, archive and delete days, is_active, last_cleanup_at, last_archive_at',
    security,
    responses: { 200: '{ policies }', ...unauthenticated, 403: `The key lacks the retention scope, or the administrator's admin_level is below ${ADMIN_LEVELS.readRetention}` },
  },
  {
    method: 'patch',
    path: '/v1/retention-policies/:table',
    tag: 'retention',
    summary: 'Change one table’s policy; audited as retention_policy_updated with the old and new values',
    security,
    body: updatePolicyBody,
    responses: {
      200: 'The policy',
      400: 'Invalid days, or an inconsistent policy (deletion before the retention period ends, archiving after deletion)',
      404: 'No such table',
      ...unauthenticated,
      403: `The key lacks the retention scope, or the administrator's admin_level is below ${ADMIN_LEVELS.manageRetention}`,
    },
  },
];
