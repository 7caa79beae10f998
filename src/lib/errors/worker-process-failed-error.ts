/** `npm start`'s worker process exited before it was ready; it has said why on stderr. */
export class WorkerProcessFailed extends Error {
  constructor(readonly exitCode: number | null) {
    super(`the worker process exited with ${exitCode ?? 'a signal'} before it was ready`);
  }
}
