// Regenerates schemas/batch-prediction-input.schema.json: `npx tsx src/run-client/write-json-schema.ts`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { batchPredictionInputJsonSchema } from './input';

export const JSON_SCHEMA_PATH = join(__dirname, '..', '..', 'schemas', 'batch-prediction-input.schema.json');

export function renderJsonSchema(): string {
  return JSON.stringify(batchPredictionInputJsonSchema(), null, 2) + '\n';
}

if (require.main === module) {
  writeFileSync(JSON_SCHEMA_PATH, renderJsonSchema());
  console.log(`wrote ${JSON_SCHEMA_PATH}`);
}
