import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { globalOptions, print } from './cli-context.ts';

/** `schema export`: the JSON Schemas editors check the repo's YAML with. */
export function registerSchemaCommands(program: Command): void {
  const schema = program
    .command('schema')
    .description('JSON Schemas of tessera.yaml and every document kind, for editors');

  schema
    .command('export')
    .description(
      'write one JSON Schema per kind, tessera-document.schema.json (any kind) and tessera.schema.json into DIR',
    )
    .argument('<dir>', 'the folder to write to (created if missing; files of the same names are replaced)')
    .action(async (dir: string, _flags: unknown, command: Command) => {
      const options = globalOptions(command);
      const target = resolve(dir);
      const { Platform } = await import('../platform.ts');
      const files = await Platform.exportJsonSchemas(target);
      print(options, { dir: target, files }, () =>
        files.map((file) => `wrote ${join(dir, file)}`).join('\n'),
      );
    });
}
