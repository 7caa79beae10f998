/** source_app of the events the todo/auth API records about itself, and of its built-in users' risk decisions. */
export const OWN_SOURCE_APP = 'auditflow';
