import { spawnSync } from 'child_process';
import { shellCommand, shellQuote } from '../lib/internal/shell';

describe('shell quoting', () => {
  test('leaves plain words bare', () => {
    expect(shellQuote('-server=vtctld:15999')).toBe('-server=vtctld:15999');
    expect(shellQuote('test_keyspace/-80')).toBe('test_keyspace/-80');
  });

  test('bash reads every quoted argument back unchanged', () => {
    const args = ["it's", 'a b', '$(rm -rf /)', '`x`', '"q"', 'multi\nline', '*', ''];
    const result = spawnSync('/bin/bash', ['-c', `printf '%s\\0' ${shellCommand(args)}`], { encoding: 'utf8' });
    expect(result.stdout.split('\0').slice(0, -1)).toEqual(args);
  });
});
