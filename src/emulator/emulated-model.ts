import { createHash } from 'node:crypto';
import type { Prediction } from '../webhook-delivery';

const LABELS = ['rbc', 'wbc', 'platelet', 'cell', 'background'];

/** A stand-in model: the same image bytes always give the same 1 to 3 boxes, derived from their SHA-256. */
export function emulatedPredictions(image: Buffer): Prediction[] {
  const hash = createHash('sha256').update(image).digest();
  const count = 1 + (hash[0] % 3);
  return Array.from({ length: count }, (_, i) => {
    const byte = (offset: number) => hash[(1 + i * 6 + offset) % hash.length];
    const xmin = byte(0) / 512;
    const ymin = byte(1) / 512;
    return {
      label: LABELS[byte(2) % LABELS.length],
      confidence: Math.round((0.5 + byte(3) / 510) * 1000) / 1000,
      bbox: [xmin, ymin, xmin + 0.05 + byte(4) / 1024, ymin + 0.05 + byte(5) / 1024],
    };
  });
}
