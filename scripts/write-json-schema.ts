/**
 * Writes the editor JSON Schema for `servers.config.yaml` (`npm run schema`). A test fails
 * when the checked-in file differs from what this would write.
 */
import { writeFile } from 'node:fs/promises';
import { configJsonSchemaText } from '../src/config/json-schema.ts';

const target = new URL('../schema/servers.config.schema.json', import.meta.url);
await writeFile(target, configJsonSchemaText());
process.stdout.write(`wrote ${target.pathname}\n`);
