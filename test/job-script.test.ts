import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { JobCondition, VitessRelease } from '../lib';
import { clientPrefix, renderScript } from '../lib/jobs/job-script';

describe('the command Job script', () => {
  const release = VitessRelease.V9_0;
  const client = clientPrefix(release, 'vtctld:15999');

  test('the client prefix of the release', () => {
    expect(client).toEqual(['/vt/bin/vtctlclient', '-server=vtctld:15999']);
  });

  test('checks whether the work is done, waits, checks again, then runs the commands in order', () => {
    const script = renderScript({
      client,
      release,
      waitFor: [JobCondition.cellRegistered('test'), JobCondition.keyspaceExists('ks')],
      skipIf: JobCondition.tableExists('test-0000000104', 'messages'),
      commands: [
        [...client, 'Backup', 'test-0000000104'],
        [...client, 'RebuildVSchemaGraph'],
      ],
      waitTimeout: 600,
      pollInterval: 5,
    });
    // The top-level statements (the function bodies are indented).
    const statements = script.split('\n').filter((line) => /^(skip_if_done|wait_for|\/vt\/bin\/[a-z]+|echo "done")( |$)/.test(line));
    expect(statements.map((line) => line.split(' ||')[0])).toEqual([
      'skip_if_done',
      "wait_for precondition_1 'cell '\\''test'\\'' registered in the global topology'",
      "wait_for precondition_2 'keyspace '\\''ks'\\'' exists'",
      'skip_if_done',
      '/vt/bin/vtctlclient -server=vtctld:15999 Backup test-0000000104',
      '/vt/bin/vtctlclient -server=vtctld:15999 RebuildVSchemaGraph',
      'echo "done"',
    ]);
    expect(script).toContain('deadline=$(( $(date +%s) + 600 ))');
    expect(script).toContain('sleep 5');
  });
});

test('a failing command fails the script with its exit status and the command', () => {
  const release = VitessRelease.V9_0;
  const script = renderScript({
    client: ['/bin/true'],
    release,
    waitFor: [],
    commands: [['/bin/sh', '-c', 'exit 3'], ['/bin/echo', 'never']],
    waitTimeout: 10,
    pollInterval: 1,
  });
  const result = spawnSync('/bin/bash', ['-c', script], { encoding: 'utf8' });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("FAILED with exit status 3: /bin/sh -c 'exit 3'");
  expect(result.stdout).not.toContain('never\n');
});

test('combined conditions, output matched without whitespace, and conditions on failing commands', () => {
  const release = VitessRelease.V9_0;
  const printJson = JobCondition.custom({
    description: 'the JSON has "a": 1',
    command: ['/bin/printf', '{\n  "a": 1\n}\n'],
    present: ['"a":1'],
    ignoreWhitespace: true,
  });
  const fails = JobCondition.custom({ description: 'never', command: ['/bin/false'] });
  const run = (waitFor: JobCondition[]) =>
    spawnSync(
      '/bin/bash',
      ['-c', renderScript({ client: [], release, waitFor, commands: [['/bin/echo', 'acted']], waitTimeout: 1, pollInterval: 1 })],
      { encoding: 'utf8' },
    );
  expect(run([printJson]).stdout).toContain('acted');
  expect(run([JobCondition.anyOf(fails, printJson)]).stdout).toContain('acted');
  const failed = run([JobCondition.allOf(printJson, fails)]);
  expect(failed.status).toBe(1);
  expect(failed.stderr).toContain('FAILED: gave up after 1s waiting for: the JSON has "a": 1 and never');
  // The last attempt's commands and their output, in order.
  expect(failed.stderr).toContain("last output of the checks:\n$ /bin/printf '{\n  \"a\": 1\n}\n'\n{\n  \"a\": 1\n}\n$ /bin/false\n");
  expect(failed.stdout).not.toContain('acted');
});

test('after the commands: waits for their effect, then verifies once and fails naming what does not hold', () => {
  const release = VitessRelease.V9_0;
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'effect-'));
  const flag = `${state}/copied`;
  const copied = JobCondition.custom({ description: 'the copy is done', command: ['/bin/cat', flag], present: ['^yes$'] });
  const clean = (ok: boolean) => JobCondition.custom({ description: 'no differences', command: [ok ? '/bin/true' : '/bin/false'] });
  const run = (verify: JobCondition) =>
    spawnSync(
      '/bin/bash',
      [
        '-c',
        renderScript({
          client: [],
          release,
          waitFor: [],
          // The command starts a background "copy" that finishes a moment later.
          commands: [['/bin/bash', '-c', `(sleep 1; echo yes > ${flag}) &`]],
          waitTimeout: 1,
          pollInterval: 1,
          thenWaitFor: [copied],
          thenWaitTimeout: 10,
          thenVerify: [verify],
        }),
      ],
      { encoding: 'utf8' },
    );
  const ok = run(clean(true));
  expect(ok.status).toBe(0);
  expect(ok.stdout).toContain('ready: the copy is done');
  expect(ok.stdout).toContain('verified: no differences');
  fs.rmSync(flag, { force: true });
  const bad = run(clean(false));
  expect(bad.status).toBe(1);
  expect(bad.stdout).toContain('ready: the copy is done');
  expect(bad.stderr).toContain('FAILED: does not hold: no differences');
  fs.rmSync(state, { recursive: true, force: true });
});

describe('retries', () => {
  const release = VitessRelease.V9_0;
  /** A script whose command fails until the counter file reaches `succeedAt`; pauses shortened. */
  function retryScript(dir: string, retries: number, succeedAt: number, doneAt?: number, unsafeAt?: number): string {
    const counter = path.join(dir, 'count');
    fs.writeFileSync(counter, '0');
    const command = [
      '/bin/sh',
      '-c',
      `n=$(( $(cat ${counter}) + 1 )); echo $n >${counter}; [ $n -ge ${succeedAt} ]`,
    ];
    return renderScript({
      client: [],
      release,
      waitFor: [],
      // The skip condition holds once the counter file reaches `doneAt` (its "command" is a grep).
      skipIf:
        doneAt === undefined
          ? undefined
          : JobCondition.custom({ description: 'done', command: ['/bin/grep', '-qx', String(doneAt), counter] }),
      // Acting is unsafe once the counter file reaches `unsafeAt`.
      refuseIf:
        unsafeAt === undefined
          ? undefined
          : JobCondition.custom({ description: 'unsafe', command: ['/bin/grep', '-qx', String(unsafeAt), counter] }),
      commands: [command],
      waitTimeout: 10,
      pollInterval: 1,
      retries,
    }).replace(/^retry_delay=\d+$/m, 'retry_delay=0');
  }

  test('a failed command is tried again, up to the number of retries, then the Job fails', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'retry-'));
    try {
      const succeeds = spawnSync('/bin/bash', ['-c', retryScript(dir, 3, 3)], { encoding: 'utf8' });
      expect(succeeds.status).toBe(0);
      expect(succeeds.stdout).toContain('try 1 failed with exit status 1; trying again in 0s');
      expect(succeeds.stdout).toContain('try 2 failed');
      expect(succeeds.stdout).not.toContain('try 3 failed');
      expect(fs.readFileSync(path.join(dir, 'count'), 'utf8').trim()).toBe('3');

      const fails = spawnSync('/bin/bash', ['-c', retryScript(dir, 2, 10)], { encoding: 'utf8' });
      expect(fails.status).toBe(1);
      expect(fails.stderr).toContain('FAILED with exit status 1 after 3 tries:');
      expect(fs.readFileSync(path.join(dir, 'count'), 'utf8').trim()).toBe('3');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('before each new try the work is checked: done after all, the Job succeeds without trying again', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'retry-'));
    try {
      // The first try fails but leaves the work done (counter 1 = done).
      const run = spawnSync('/bin/bash', ['-c', retryScript(dir, 5, 10, 1)], { encoding: 'utf8' });
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('already done (done): nothing to do');
      expect(fs.readFileSync(path.join(dir, 'count'), 'utf8').trim()).toBe('1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('before each try, a condition under which acting does harm fails the Job without acting, after the work check', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'retry-'));
    try {
      // The first try fails and leaves the state unsafe (counter 1), the work not done (done at 5).
      const run = spawnSync('/bin/bash', ['-c', retryScript(dir, 5, 10, 5, 1)], { encoding: 'utf8' });
      expect(run.status).toBe(1);
      expect(run.stdout).toContain('try 1 failed with exit status 1');
      expect(run.stderr).toContain('FAILED: refusing to act: unsafe, and the work is not done (it is when: done)');
      // The output of both checks: why the work is not done, then why acting is unsafe.
      expect(run.stderr).toMatch(/\$ \/bin\/grep -qx 5 \S+count\n\$ \/bin\/grep -qx 1 \S+count\n/);
      expect(fs.readFileSync(path.join(dir, 'count'), 'utf8').trim()).toBe('1');
      // Unsafe from the start (retryScript resets the counter to 0): no try at all.
      const script = retryScript(dir, 5, 10, 5, 1);
      fs.writeFileSync(path.join(dir, 'count'), '1');
      const refused = spawnSync('/bin/bash', ['-c', script], { encoding: 'utf8' });
      expect(refused.status).toBe(1);
      expect(refused.stdout).not.toContain('try 1');
      expect(fs.readFileSync(path.join(dir, 'count'), 'utf8').trim()).toBe('1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the pause doubles from 10 s up to 60 s', () => {
    const script = renderScript({ client: [], release, waitFor: [], commands: [['/bin/true']], waitTimeout: 10, pollInterval: 1, retries: 5 });
    expect(script).toContain('retry_delay=10\n');
    expect(script).toContain('retry_delay=$(( retry_delay * 2 > 60 ? 60 : retry_delay * 2 ))');
  });
});

test('a ConfigMap condition matches its key and value literally: a dot is no wildcard', () => {
  const script = renderScript({
    client: [],
    release: VitessRelease.V9_0,
    waitFor: [JobCondition.configMapValue('result', 'a.b', 'c.d')],
    commands: [],
    waitTimeout: 10,
    pollInterval: 1,
  });
  const line = script.split('\n').find((l) => l.startsWith('  grep -Eq ') && l.includes('a'))!;
  const pattern = /^ {2}grep -Eq '([^']*)' /.exec(line)![1];
  expect(pattern).toBe('"a\\.b":"c\\.d"');
  const grep = (text: string) => spawnSync('grep', ['-Eq', pattern], { input: text }).status === 0;
  expect(grep('{"data":{"a.b":"c.d"}}')).toBe(true);
  expect(grep('{"data":{"aXb":"cXd"}}')).toBe(false);
});
