import { simpleCommands } from './shell-words';

describe('simpleCommands', () => {
  test('splits commands and removes quotes', () => {
    expect(simpleCommands(`a 'b c' "d \\"e\\"" f\\ g\nh; i && j || k | l`)).toEqual([
      ['a', 'b c', 'd "e"', 'f g'],
      ['h'],
      ['i'],
      ['j'],
      ['k'],
      ['l'],
    ]);
  });

  test('drops redirections and their targets', () => {
    expect(simpleCommands('timeout 30 x -a=1 >/tmp/out 2>&1 || return 1')).toEqual([
      ['timeout', '30', 'x', '-a=1'],
      ['return', '1'],
    ]);
  });

  test('keeps newlines inside quotes and skips comments', () => {
    expect(simpleCommands("# note\nx '-sql=CREATE TABLE t (\n  a INT\n)' ks")).toEqual([
      ['x', '-sql=CREATE TABLE t (\n  a INT\n)', 'ks'],
    ]);
  });

  test('reads an escaped single quote', () => {
    expect(simpleCommands("echo 'it'\\''s'")).toEqual([['echo', "it's"]]);
  });

  test('fails on an unterminated quote', () => {
    expect(() => simpleCommands("echo 'oops")).toThrow(/unterminated single quote/);
  });
});
