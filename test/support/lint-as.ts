/**
 * Lints a snippet as if it were a file of the project, with the project's own ESLint config: how the lint
 * tests show the rules reject what they should. One ESLint instance in process (its config and parser load
 * once), not a process per snippet.
 */
import path from 'node:path';
import { ESLint } from 'eslint';

const ROOT = path.join(__dirname, '..', '..');
let eslint: ESLint | undefined;

/** `ruleId: message` for each problem found in `code` linted as `file` (relative to the root). */
export async function lintAs(file: string, code: string): Promise<string[]> {
  // The config is given as a value: ESLint would load the file with a dynamic import, which Jest's VM refuses.
  eslint ??= new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: require(path.join(ROOT, 'eslint.config.js')) });
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}
