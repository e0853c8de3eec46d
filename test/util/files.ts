import * as fs from 'fs';
import * as path from 'path';

/** Every file under `dir`, by its path relative to `dir`, in sorted order. */
export function filesUnder(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (relative: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const entryPath = path.join(relative, entry.name);
      if (entry.isDirectory()) {
        walk(entryPath);
      } else {
        files.set(entryPath, fs.readFileSync(path.join(dir, entryPath)));
      }
    }
  };
  walk('');
  return files;
}
