// The plugin's reader of the YAML cdk8s writes (validation/manifest-yaml.ts) against js-yaml, the
// reader it stands in for: on the example's manifests, on a cluster with every kind of option, and
// on random documents written by cdk8s's own serializer, it must read what js-yaml reads or give up.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Yaml } from 'cdk8s';
import * as fc from 'fast-check';
import * as yaml from 'js-yaml';
import { buildApps } from '../main';
import { readManifestYaml } from '../validation/manifest-yaml';

/** js-yaml's reading, as the plugin falls back to it. */
function jsYaml(text: string): unknown[] {
  return yaml.loadAll(text, { schema: yaml.YAML11_SCHEMA });
}

/** The plain-scalar resolution the plugin passes in: js-yaml's, of the scalar alone. */
function resolvePlain(text: string): unknown {
  const documents = jsYaml(text);
  return documents.length === 1 ? documents[0] : undefined;
}

/** What cdk8s writes for these documents (Yaml.save, the writer of app.synth()). */
function written(documents: unknown[]): string {
  return Yaml.stringify(...documents);
}

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifest-yaml-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

function yamlFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.yaml')).map((f) => path.join(dir, f)).sort();
}

describe('readManifestYaml', () => {
  test("reads every file of the example itself, as js-yaml reads it", () => {
    // GIVEN the example's manifests
    for (const app of buildApps(outdir)) (app as App).synth();
    const files = yamlFiles(outdir);
    expect(files.length).toBeGreaterThanOrEqual(25);

    // THEN each is read without falling back, and as js-yaml reads it
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      const read = readManifestYaml(text, resolvePlain);
      expect({ file, fellBack: read === undefined }).toEqual({ file, fellBack: false });
      expect(read).toEqual(jsYaml(text));
    }
  });

  test('reads literal block scalars with each chomping, empty collections, quoted keys and YAML 1.1 words', () => {
    const documents = [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'x', annotations: { 'example.com/a b': 'c', "it's": 'y' } },
        data: {
          clip: 'line 1\n  indented\n\nafter an empty line\n',
          strip: 'no final break',
          keep: 'two final breaks\n\n',
          spaces: 'trailing spaces   \nand a line',
          words: ['yes', 'no', 'on', 'off', 'y', 'n', 'null', '~', '0o10', '010', '1e3', '2024-01-01', '.inf', '-', '- x', ': x', '#x', 'a #b'],
          values: [true, false, null, 0, -1, 1.5, 15000],
          empty: [{}, [], ''],
          nested: [[1, [2]], [{ a: [] }]],
        },
      },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'y' } },
    ];
    const text = written(documents);

    // WHEN it is read THEN it is what was written, and what js-yaml reads
    const read = readManifestYaml(text, resolvePlain);
    expect(read).toEqual(jsYaml(text));
    expect(read).toEqual(documents);
  });

  test.each([
    ['a comment', 'a: 1 # note\n'],
    ['a comment line', '# note\na: 1\n'],
    ['an anchor and an alias', 'a: &x 1\nb: *x\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a flow mapping', 'a: {b: 1}\n'],
    ['a flow sequence', 'a: [1, 2]\n'],
    ['a folded scalar', 'a: >\n  b\n  c\n'],
    ['a plain scalar over two lines', 'a: b\n  c\n'],
    ['a double-quoted scalar over two lines', 'a: "b\n  c"\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a merge key', 'a: &x\n  b: 1\nc:\n  <<: *x\n'],
    ['a tab in the indentation', 'a:\n\tb: 1\n'],
    ['CRLF line breaks', 'a: 1\r\nb: 2\r\n'],
    ['an empty file', ''],
    ['an empty document', 'a: 1\n---\n'],
    ['a document end marker', 'a: 1\n...\n'],
  ])('gives up on %s (js-yaml reads the file instead)', (_what, text) => {
    expect(readManifestYaml(text, resolvePlain)).toBeUndefined();
  });

  test('plain scalars whose first characters decide their type are read as js-yaml reads them in YAML 1.1', () => {
    // The reader takes these without asking js-yaml (manifest-yaml.ts plain()): words that start
    // with a letter (all strings but the YAML 1.1 booleans and null), paths, flags, and decimal integers.
    const plainTail = /^[-A-Za-z0-9_./=:@~+]{0,20}$/;
    const scalars = fc.oneof(
      fc.stringMatching(/^[A-Za-z]{1,5}$/),
      fc.constantFrom('y', 'Y', 'yes', 'Yes', 'YES', 'n', 'No', 'NO', 'true', 'True', 'FALSE', 'on', 'On', 'OFF', 'null', 'Null', 'NULL', 'nULL', 'tRUE', 'yES'),
      fc.tuple(fc.constantFrom('a', 'Z', '/', '-a', '--', '-Z'), fc.stringMatching(plainTail)).map(([head, tail]) => head + tail),
      fc.nat({ max: Number.MAX_SAFE_INTEGER }).map(String),
    );
    fc.assert(
      fc.property(scalars.filter((s) => !s.endsWith(':') && !s.includes(': ')), (scalar) => {
        const text = written([{ value: scalar }, { value: /^\d+$/.test(scalar) ? Number(scalar) : scalar }]).replace(/"/g, '');
        const expected = jsYaml(text);
        expect(readManifestYaml(text, () => undefined) ?? expected).toEqual(expected);
      }),
      { numRuns: 1500 },
    );
  });

  test('reads random documents written by cdk8s as js-yaml reads them, or gives up', () => {
    // GIVEN documents of every JSON type, with strings that YAML quotes, escapes or blocks
    const tricky = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('yes', 'No', 'ON', 'null', '~', '0o10', '010', '1e3', '0x1F', '1:20', '2024-01-01', '.nan', '<<', '=', '-', '?', '|', '>', "'", '"', '#'),
      fc.stringMatching(/^[ -~\n\t]{0,30}$/),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        tricky,
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(tricky, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    const document = fc.dictionary(tricky, value, { minKeys: 1, maxKeys: 5 });
    let readByItself = 0;
    let runs = 0;

    fc.assert(
      fc.property(fc.array(document, { minLength: 1, maxLength: 3 }), (documents) => {
        runs += 1;
        const text = written(documents);
        const read = readManifestYaml(text, resolvePlain);
        if (read !== undefined) {
          readByItself += 1;
          // THEN what it reads is what js-yaml reads (and what was written)
          expect(read).toEqual(jsYaml(text));
        }
      }),
      { numRuns: 1500 },
    );
    // AND it reads most of them by itself (a reader that always gives up would pass the above)
    expect(readByItself / runs).toBeGreaterThan(0.3);
  });
});
