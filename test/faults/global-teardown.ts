import { writeReliabilityDoc } from './reliability-report';

/** After the whole fault run: the figures of every scenario that ran go into docs/reliability.md. */
export default function globalTeardown(): void {
  writeReliabilityDoc();
}
