import { clearFigures } from './reliability-report';

export default function globalSetup(): void {
  clearFigures();
}
