import fs from 'node:fs';
import path from 'node:path';

/** The project root (where package.json is), from source or from dist/. */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate) && (JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string }).name === 'longhaul') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the longhaul package.json above ' + __dirname);
    dir = parent;
  }
}

export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
