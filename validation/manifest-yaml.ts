/**
 * A reader for the YAML that cdk8s writes (the `yaml` package's block style, as `Yaml.stringify`
 * emits it), which the plugin reads a manifest with before it falls back to js-yaml: block
 * mappings and sequences, plain, single- and double-quoted scalars on one line, literal block
 * scalars (`|`, `|-`, `|+`), and the empty flow collections `{}` and `[]`. Anything else (comments,
 * anchors, tags, flow collections with content, folded or multi-line scalars, duplicate keys, merge
 * keys) makes it return `undefined`, and the caller reads the file with js-yaml instead, so that
 * what it returns is always what js-yaml returns. Plain scalars are resolved as YAML 1.1 by
 * js-yaml itself, except those whose type their first characters decide: a word that starts with a
 * letter and is not a YAML 1.1 boolean or null, a path (`/`), a flag (`-` and a letter or `--`),
 * all strings, and a decimal integer of at most 15 digits.
 *
 * It is about ten times as fast as js-yaml on the example's manifests, most of which are Job
 * scripts in literal block scalars; test/validation.test.ts checks that both read the example,
 * every test manifest and random documents written by cdk8s alike.
 */

/** Thrown inside the reader when the text leaves the subset; never escapes {@link readManifestYaml}. */
class OutsideSubset extends Error {}

/**
 * The plain words that are not strings in YAML 1.1 (booleans and null, yaml.org/type/bool.html
 * and null.html): the only values of an implicit type that start with a letter.
 */
const YAML11_WORDS = new Set(
  ['y', 'yes', 'n', 'no', 'true', 'false', 'on', 'off', 'null'].flatMap((w) => [w, w[0].toUpperCase() + w.slice(1), w.toUpperCase()]),
);

/** The longest word of {@link YAML11_WORDS} (`false`): longer plain words are strings. */
const LONGEST_NON_STRING_WORD = 5;

/** Double-quoted escapes that `yaml` writes, and their characters. */
const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\x85',
  _: '\xa0',
  L: '\u2028',
  P: '\u2029',
};

function outside(): never {
  throw new OutsideSubset();
}

/** The value of a double-quoted scalar that is the whole of `text`. */
function doubleQuoted(text: string): string {
  if (text.length < 2 || text[text.length - 1] !== '"') outside();
  let out = '';
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i];
    if (c === '"') outside();
    if (c !== '\\') {
      out += c;
      continue;
    }
    i += 1;
    if (i >= text.length - 1) outside();
    const e = text[i];
    const hexLength = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLength > 0) {
      const hex = text.slice(i + 1, i + 1 + hexLength);
      if (hex.length !== hexLength || !/^[0-9A-Fa-f]+$/.test(hex)) outside();
      out += String.fromCodePoint(parseInt(hex, 16));
      i += hexLength;
    } else if (Object.prototype.hasOwnProperty.call(ESCAPES, e)) {
      out += ESCAPES[e];
    } else {
      outside();
    }
  }
  return out;
}

/** The value of a single-quoted scalar that is the whole of `text`. */
function singleQuoted(text: string): string {
  if (text.length < 2 || text[text.length - 1] !== "'") outside();
  const inner = text.slice(1, -1);
  if (/'(?!')/.test(inner.replace(/''/g, ''))) outside();
  return inner.replace(/''/g, "'");
}

/** Reads the documents of one manifest. */
class Reader {
  /** Each line's text. */
  private readonly lines: string[];
  /** Where each line's content starts (after its indentation, or after a sequence's `- `). */
  private readonly starts: Int32Array;
  private line = 0;

  public constructor(
    text: string,
    private readonly resolvePlain: (text: string) => unknown,
  ) {
    if (text.includes('\r') || text.charCodeAt(0) === 0xfeff) outside();
    this.lines = text.split('\n');
    if (this.lines.length > 0 && this.lines[this.lines.length - 1] === '') this.lines.pop();
    this.starts = new Int32Array(this.lines.length).fill(-1);
  }

  /** Where line `i`'s content starts, after its indentation (its length when it is empty). */
  private start(i: number): number {
    let start = this.starts[i];
    if (start < 0) {
      const text = this.lines[i];
      start = text.search(/[^ ]/);
      if (start < 0) start = text.length;
      else if (text[start] === '\t' || text[start] === '#') outside();
      this.starts[i] = start;
    }
    return start;
  }

  public documents(): unknown[] {
    const documents: unknown[] = [];
    if (this.lines.length > 0 && this.lines[0] === '---') this.line = 1;
    for (;;) {
      this.skipEmpty();
      if (this.line >= this.lines.length || this.lines[this.line] === '---' || this.start(this.line) !== 0) outside();
      documents.push(this.block(0));
      this.skipEmpty();
      if (this.line >= this.lines.length) return documents;
      if (this.lines[this.line] !== '---') outside();
      this.line += 1;
    }
  }

  private skipEmpty(): void {
    while (this.line < this.lines.length && this.start(this.line) === this.lines[this.line].length) this.line++;
  }

  /** The collection that starts at the current line, whose content starts at column `indent`. */
  private block(indent: number): unknown {
    const text = this.lines[this.line];
    const start = this.start(this.line);
    if (start !== indent) outside();
    return text[start] === '-' && (text.length === start + 1 || text[start + 1] === ' ') ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): unknown[] {
    const items: unknown[] = [];
    for (;;) {
      this.skipEmpty();
      if (this.line >= this.lines.length) return items;
      const text = this.lines[this.line];
      if (this.start(this.line) < indent || text === '---') return items;
      if (this.start(this.line) > indent) outside();
      if (text[indent] !== '-' || (text.length !== indent + 1 && text[indent + 1] !== ' ')) outside();
      if (text.length === indent + 1) {
        // "-" alone: the item is the block below, more indented.
        this.line += 1;
        this.skipEmpty();
        if (this.line >= this.lines.length || this.start(this.line) <= indent) outside();
        items.push(this.block(this.start(this.line)));
        continue;
      }
      let content = indent + 2;
      while (content < text.length && text[content] === ' ') content++;
      const rest = text.slice(content);
      if ((rest[0] === '-' && (rest.length === 1 || rest[1] === ' ')) || this.keyEnd(rest) !== undefined) {
        // A nested sequence or a mapping that starts on the item's line, at the item's content column.
        this.starts[this.line] = content;
        items.push(this.block(content));
      } else {
        items.push(this.inlineValue(rest, indent));
      }
    }
  }

  /** Where the key of a mapping entry ends (the index of its `:`), or undefined when `text` is no entry. */
  private keyEnd(text: string): number | undefined {
    if (text[0] === '"' || text[0] === "'") {
      const quote = text[0];
      let i = 1;
      while (i < text.length) {
        if (text[i] === '\\' && quote === '"') {
          i += 2;
          continue;
        }
        if (text[i] === quote) {
          if (quote === "'" && text[i + 1] === "'") {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      if (i >= text.length) return undefined;
      return text[i + 1] === ':' && (i + 2 === text.length || text[i + 2] === ' ') ? i + 1 : undefined;
    }
    const colon = text.indexOf(': ');
    if (colon > 0) return colon;
    return text.length > 1 && text[text.length - 1] === ':' ? text.length - 1 : undefined;
  }

  private key(text: string): string {
    if (text[0] === '"') return doubleQuoted(text);
    if (text[0] === "'") return singleQuoted(text);
    if (text === '<<' || /^[?&*!|>%@`{[\]},#]/.test(text) || / #|:/.test(text)) outside();
    return String(this.plain(text));
  }

  private mapping(indent: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (;;) {
      this.skipEmpty();
      if (this.line >= this.lines.length) return result;
      const text = this.lines[this.line];
      const start = this.start(this.line);
      if (start < indent || text === '---') return result;
      if (start > indent) outside();
      const entry = text.slice(start);
      const colon = this.keyEnd(entry);
      if (colon === undefined) outside();
      const key = this.key(entry.slice(0, colon));
      if (key === '__proto__' || Object.prototype.hasOwnProperty.call(result, key)) outside();
      const rest = entry.slice(colon + 1).replace(/^ +/, '');
      if (rest === '') {
        this.line += 1;
        this.skipEmpty();
        if (this.line < this.lines.length && this.lines[this.line] !== '---') {
          const below = this.start(this.line);
          const line = this.lines[this.line];
          const isSequence = line[below] === '-' && (line.length === below + 1 || line[below + 1] === ' ');
          if (below > indent || (below === indent && isSequence)) {
            result[key] = this.block(below);
            continue;
          }
        }
        result[key] = null;
        continue;
      }
      result[key] = this.inlineValue(rest, indent);
    }
  }

  /**
   * A value that starts on the current line (a scalar, `{}`, `[]` or a block scalar header), in
   * a node whose lines are at column `indent`; moves past its lines.
   */
  private inlineValue(text: string, indent: number): unknown {
    if (text[0] === '|') return this.literal(text, indent);
    this.line += 1;
    let value: unknown;
    if (text === '{}') value = {};
    else if (text === '[]') value = [];
    else if (text[0] === '"') value = doubleQuoted(text);
    else if (text[0] === "'") value = singleQuoted(text);
    else if (/^[&*!>%@`{[\]},#?]/.test(text) || / #|: /.test(text) || text.endsWith(':') || text.endsWith(' ')) outside();
    else value = this.plain(text);
    // A scalar continued on the next line (more indented) is outside the subset.
    this.skipEmpty();
    if (this.line < this.lines.length && this.start(this.line) > indent && this.lines[this.line] !== '---') outside();
    return value;
  }

  /** A literal block scalar: its header is `header`, its lines the ones below, more indented than `indent`. */
  private literal(header: string, indent: number): string {
    const match = /^\|([-+]?)$/.exec(header);
    if (!match) outside();
    const chomping = match[1];
    this.line += 1;
    const lines: string[] = [];
    let contentIndent = -1;
    while (this.line < this.lines.length) {
      const text = this.lines[this.line];
      const start = this.start(this.line);
      if (start === text.length) {
        // An empty (or spaces-only) line belongs to the scalar; one before the first content
        // line is outside the subset.
        if (contentIndent < 0) outside();
        lines.push(contentIndent >= 0 && start > contentIndent ? text.slice(contentIndent) : '');
        this.line++;
        continue;
      }
      if (start <= indent) break;
      if (contentIndent < 0) contentIndent = start;
      if (start < contentIndent) outside();
      lines.push(text.slice(contentIndent));
      this.line++;
    }
    if (contentIndent < 0) outside();
    // Empty lines after the last content line are trailing line breaks.
    let last = lines.length;
    while (last > 0 && lines[last - 1] === '') last--;
    const body = lines.slice(0, last).join('\n');
    if (chomping === '-') return body;
    if (chomping === '+') return body + '\n'.repeat(lines.length - last + 1);
    return body + '\n';
  }

  private plain(text: string): unknown {
    const c = text.charCodeAt(0);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (letter && (text.length > LONGEST_NON_STRING_WORD || !YAML11_WORDS.has(text))) return text;
    if (c === 47 || (c === 45 && /^-[-A-Za-z]/.test(text))) return text;
    if (/^(0|[1-9][0-9]{0,14})$/.test(text)) return Number(text);
    const value = this.resolvePlain(text);
    if (value === undefined || Array.isArray(value) || (value !== null && typeof value === 'object' && !(value instanceof Date))) outside();
    return value;
  }
}

/**
 * The documents of a manifest that cdk8s wrote, or `undefined` when the text uses YAML beyond
 * what cdk8s writes (then read it with js-yaml).
 * @param text the manifest
 * @param resolvePlain the YAML 1.1 value of a plain scalar that is not obviously a string, or
 *   undefined when the text is not one plain scalar
 */
export function readManifestYaml(text: string, resolvePlain: (text: string) => unknown): unknown[] | undefined {
  try {
    return new Reader(text, resolvePlain).documents();
  } catch (error) {
    if (error instanceof OutsideSubset) return undefined;
    throw error;
  }
}
