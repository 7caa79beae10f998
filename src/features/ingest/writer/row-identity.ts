/** A row's identity: its event_id within its source app (app names never contain a newline). */
export function rowIdentity(row: { source_app?: unknown; event_id?: unknown }): string {
  return `${String(row.source_app ?? '')}\n${String(row.event_id)}`;
}
