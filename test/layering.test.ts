import * as fs from 'fs';
import * as path from 'path';

const LIB = path.resolve(__dirname, '..', 'lib');

/**
 * The layers of lib/, in order: a file may import files of its own layer and of the layers before
 * it, never of a later one. The shared vocabulary (the files directly in lib/) and the private
 * helpers (internal/) and their data (data/, JSON) come first, then the command Jobs, the components, the resharding flows and
 * the whole-cluster model (cluster/).
 * lib/index.ts re-exports every layer and belongs to none.
 */
const LAYERS: readonly (readonly string[])[] = [['', 'internal', 'data'], ['jobs'], ['constructs'], ['flows'], ['cluster']];

/** Every .ts file under `dir`, relative to lib/ with '/' separators, sorted. */
function libFiles(dir = LIB): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        return libFiles(file);
      }
      return entry.name.endsWith('.ts') ? [path.relative(LIB, file).split(path.sep).join('/')] : [];
    })
    .sort();
}

/**
 * The relative module specifiers of a source file: `import ... from './x'`, `import type ... from`,
 * `export ... from`, `import './x'`, `import('./x')` and `require('./x')`.
 */
function relativeImports(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\s*['"](\.{1,2}\/[^'"]+)['"]/g,
    /\b(?:import|require)\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1]));
}

/** The file of lib/ (relative to lib/) that `specifier` in `from` names, or undefined outside lib/. */
function resolveImport(from: string, specifier: string): string | undefined {
  const target = path.resolve(LIB, path.dirname(from), specifier);
  const relative = path.relative(LIB, target).split(path.sep).join('/');
  if (relative.startsWith('../')) {
    return undefined;
  }
  for (const candidate of relative.endsWith('.json') ? [relative] : [`${relative}.ts`, `${relative}/index.ts`]) {
    if (fs.existsSync(path.join(LIB, candidate))) {
      return candidate;
    }
  }
  throw new Error(`lib/${from}: '${specifier}' names no file of lib/`);
}

/** Each file of lib/ and the files of lib/ it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of libFiles()) {
    const source = fs.readFileSync(path.join(LIB, file), 'utf8');
    const targets = relativeImports(source)
      .map((specifier) => resolveImport(file, specifier))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The first import cycle found, as the files along it with the first repeated at the end, or undefined. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const done = new Set<string>();
  const visit = (file: string, trail: string[]): string[] | undefined => {
    const at = trail.indexOf(file);
    if (at >= 0) {
      return [...trail.slice(at), file];
    }
    if (done.has(file)) {
      return undefined;
    }
    for (const target of graph.get(file) ?? []) {
      const cycle = visit(target, [...trail, file]);
      if (cycle) {
        return cycle;
      }
    }
    done.add(file);
    return undefined;
  };
  for (const file of [...graph.keys()].sort()) {
    const cycle = visit(file, []);
    if (cycle) {
      return cycle;
    }
  }
  return undefined;
}

/** The position of a file's folder in {@link LAYERS}. */
function layerOf(file: string): number {
  const folder = file.includes('/') ? file.slice(0, file.indexOf('/')) : '';
  const layer = LAYERS.findIndex((folders) => folders.includes(folder));
  if (layer < 0) {
    throw new Error(`lib/${file} is in no layer of LAYERS: add its folder '${folder}' to one`);
  }
  return layer;
}

describe('the import structure of lib/', () => {
  const graph = importGraph();

  test('the parser finds every kind of relative import, type-only ones included', () => {
    // GIVEN a source with each form
    const source = [
      "import { Construct } from 'constructs';",
      "import { a, b } from './one';",
      "import type { C } from '../two';",
      'import {',
      '  d,',
      "} from './three/four';",
      "export * from './five';",
      "export type { E } from './six';",
      "import './seven';",
      "type F = import('./eight').F;",
      "const g = require('../nine');",
    ].join('\n');

    // THEN
    expect(relativeImports(source)).toEqual(['./one', '../two', './three/four', './five', './six', './seven', './eight', '../nine']);
  });

  test('the graph holds the imports of lib/, type-only ones included', () => {
    // THEN: a value import, a type-only import and a re-export
    expect(graph.get('constructs/vtctld.ts')).toContain('internal/topology.ts');
    expect(graph.get('constructs/vtctld.ts')).toContain('interfaces.ts');
    expect(graph.get('index.ts')).toContain('flows/vreplication-resharding.ts');
  });

  test('a cycle is found and named', () => {
    // GIVEN a -> b -> c -> a, and d outside it
    const cyclic = new Map([
      ['d.ts', ['a.ts']],
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);

    // THEN
    expect(findCycle(cyclic)).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts']);
    expect(findCycle(new Map([['a.ts', ['b.ts']], ['b.ts', []]]))).toBeUndefined();
  });

  test('lib/ has no import cycle', () => {
    // WHEN
    const cycle = findCycle(graph);

    // THEN
    expect(cycle === undefined ? 'no cycle' : `import cycle: ${cycle.map((file) => `lib/${file}`).join(' -> ')}`).toBe('no cycle');
  });

  test('each file imports only its own layer and the layers before it', () => {
    // WHEN
    const upward = [...graph]
      .filter(([file]) => file !== 'index.ts')
      .flatMap(([file, targets]) => targets.filter((target) => layerOf(target) > layerOf(file)).map((target) => `lib/${file} -> lib/${target}`));

    // THEN
    expect(upward).toEqual([]);
  });

  test('lib/index.ts only re-exports', () => {
    // GIVEN its statements, without comments
    const statements = fs
      .readFileSync(path.join(LIB, 'index.ts'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.trim().startsWith('//'));

    // THEN
    expect(statements.filter((line) => !/^export \* from '\.\/[a-z/-]+';$/.test(line))).toEqual([]);
  });
});
