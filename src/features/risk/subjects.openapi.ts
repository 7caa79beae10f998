import type { ApiOperation } from '../../http/api-operation';

const keyErrors = { 401: 'API key missing or wrong', 403: 'The key lacks the risk scope' };

export const subjectOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/subjects/:user_id',
    tag: 'risk',
    summary: "One of the calling app's users as the risk worker sees them: latest risk (score, level, action, factors), lock, last decisions",
    security: 'apiKey',
    responses: { 200: '{ user_id, source_app, risk, lock, recent_decisions }', 404: 'No auth event seen for this user of this app', ...keyErrors },
  },
  {
    method: 'delete',
    path: '/v1/subjects/:user_id/lock',
    tag: 'risk',
    summary: "Lift the lock on one of the calling app's users (audited; the app's webhook gets subject.unlocked)",
    security: 'apiKey',
    responses: { 200: '{ unlocked: true|false }', ...keyErrors },
  },
];
