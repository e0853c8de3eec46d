/**
 * A small tokenizer for the bash scripts the library writes into Job containers: it splits a
 * script into simple commands (lists of words, quotes removed), each with the line it starts on,
 * so that the plugin can find every Vitess binary a script runs and the arguments it passes. It
 * understands single and double quotes, backslash escapes, comments, command separators (newline
 * ; & | && || ( )) and redirections (> >> < 2>&1 and their targets are dropped).
 *
 * test/util/shell-words.ts gives the tests its words without the lines.
 */

/** One simple command of a script. */
export interface SimpleCommand {
  /** The words, quotes removed. */
  readonly words: string[];
  /** The 1-based line of the script that the command's first word is on. */
  readonly line: number;
}

/** Characters that are part of a word as they are, outside quotes: none that the loop below treats apart. */
const PLAIN_RUN = /[^'"\\ \t\n;|&()<>]+/y;
/** Characters that stand for themselves inside double quotes. */
const DOUBLE_QUOTED_RUN = /[^"\\]+/y;

/** The simple commands of a script, in order. */
export function simpleCommands(script: string): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: string[] = [];
  let word: string | undefined;
  let redirecting = false;
  let line = 1;
  let counted = 0;
  let commandLine = 0;

  // The line of position i; positions only move forward.
  const lineAt = (i: number): number => {
    for (let next = script.indexOf('\n', counted); next >= 0 && next < i; next = script.indexOf('\n', next + 1)) {
      line++;
      counted = next + 1;
    }
    if (counted < i) counted = i;
    return line;
  };
  const startWord = (i: number): void => {
    if (word === undefined && words.length === 0 && !redirecting) {
      commandLine = lineAt(i);
    }
  };
  const endWord = () => {
    if (word !== undefined) {
      if (redirecting) {
        redirecting = false;
      } else {
        words.push(word);
      }
    }
    word = undefined;
  };
  const endCommand = () => {
    endWord();
    redirecting = false;
    if (words.length > 0) {
      commands.push({ words, line: commandLine });
    }
    words = [];
  };

  let i = 0;
  while (i < script.length) {
    const c = script[i];
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated single quote at ${i}`);
      startWord(i);
      word = (word ?? '') + script.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < script.length && script[j] !== '"') {
        if (script[j] === '\\') {
          if ('"\\$`'.includes(script[j + 1])) {
            text += script[j + 1];
            j += 2;
          } else {
            text += '\\';
            j += 1;
          }
        } else {
          DOUBLE_QUOTED_RUN.lastIndex = j;
          DOUBLE_QUOTED_RUN.test(script);
          text += script.slice(j, DOUBLE_QUOTED_RUN.lastIndex);
          j = DOUBLE_QUOTED_RUN.lastIndex;
        }
      }
      if (j >= script.length) throw new Error(`unterminated double quote at ${i}`);
      startWord(i);
      word = (word ?? '') + text;
      i = j + 1;
    } else if (c === '\\') {
      if (script[i + 1] !== '\n') {
        startWord(i);
        word = (word ?? '') + script[i + 1];
      }
      i += 2;
    } else if (c === '#' && word === undefined) {
      const end = script.indexOf('\n', i);
      i = end < 0 ? script.length : end;
    } else if (c === ' ' || c === '\t') {
      endWord();
      i += 1;
    } else if (c === '\n' || c === ';' || c === '|' || c === '&' || c === '(' || c === ')') {
      if (c === '&' && script[i - 1] === '>') {
        // '>&1': the '&' belongs to the redirection.
        i += 1;
        continue;
      }
      endCommand();
      i += 1;
    } else if (c === '>' || c === '<') {
      if (word !== undefined && /^[0-9]+$/.test(word)) {
        word = undefined; // a file descriptor number, as in 2>&1
      }
      endWord();
      redirecting = true;
      i += script[i + 1] === '>' ? 2 : 1;
    } else {
      startWord(i);
      PLAIN_RUN.lastIndex = i;
      PLAIN_RUN.test(script);
      word = (word ?? '') + script.slice(i, PLAIN_RUN.lastIndex);
      i = PLAIN_RUN.lastIndex;
    }
  }
  endCommand();
  return commands;
}


