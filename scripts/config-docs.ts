/**
 * Writes the README's configuration table from the options themselves (shared/config-options.ts),
 * between its config:start and config:end markers. `npm run docs:config`; a test fails when the
 * README and the options disagree.
 */
import fs from 'node:fs';
import path from 'node:path';
import { configTable } from '../shared/config-options';

export const README = path.join(__dirname, '..', 'README.md');
const START = /<!-- config:start[^>]*-->\n/;
const END = '<!-- config:end -->';

/** The README with its configuration table replaced by `table`. */
export function withConfigTable(readme: string, table: string): string {
  const start = START.exec(readme);
  const end = readme.indexOf(END);
  if (!start || end < start.index) throw new Error('README.md lacks the config:start / config:end markers');
  return `${readme.slice(0, start.index + start[0].length)}${table}\n${readme.slice(end)}`;
}

if (require.main === module) {
  const readme = fs.readFileSync(README, 'utf8');
  const updated = withConfigTable(readme, configTable());
  if (updated !== readme) fs.writeFileSync(README, updated);
  process.stdout.write(updated === readme ? 'README.md configuration table is up to date\n' : 'README.md configuration table rewritten\n');
}
