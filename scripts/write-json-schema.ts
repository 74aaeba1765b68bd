/**
 * Writes the editor JSON Schema for `servers.config.yaml` and the admin API's OpenAPI document
 * (`npm run schema`). Tests fail when a checked-in file differs from what this would write.
 */
import { writeFile } from 'node:fs/promises';
import { adminOpenApiText } from '../src/admin/admin-api.ts';
import { configJsonSchemaText } from '../src/config/json-schema.ts';

const target = new URL('../schema/servers.config.schema.json', import.meta.url);
await writeFile(target, configJsonSchemaText());
process.stdout.write(`wrote ${target.pathname}\n`);
const openapi = new URL('../schema/admin-openapi.json', import.meta.url);
await writeFile(openapi, adminOpenApiText());
process.stdout.write(`wrote ${openapi.pathname}\n`);
