/**
 * The simple commands of a bash script as lists of words (quotes removed), so that tests can find
 * every Vitess binary a script runs and the arguments it passes: the tokenizer of the validation
 * plugin (validation/shell-words.js), without the line numbers it keeps for its reports.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const plugin = require('../../validation/shell-words') as {
  simpleCommands(script: string): Array<{ readonly words: string[]; readonly line: number }>;
};

/** The simple commands of `script`, in order, each as its words. */
export function simpleCommands(script: string): string[][] {
  return plugin.simpleCommands(script).map((command) => command.words);
}
