import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Testing } from 'cdk8s';
import { EtcdCell, JobCondition, VitessRelease, VtctlJob } from '../lib';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { testChart } from './util/synth';

const vtctld = { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999' };

function scriptOf(job: any): string {
  const c = job.spec.template.spec.containers[0];
  expect(c.command.slice(0, 2)).toEqual(['/bin/bash', '-c']);
  return c.command[2];
}

/**
 * Runs a Job's script with bash against a stand-in for vtctlclient that keeps the topology as
 * files: GetCellInfoNames lists $STATE/cells, AddCellInfo appends to it, every call is logged.
 */
function runScript(script: string, cells: string[]): { status: number; stdout: string; stderr: string; calls: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vtctl-job-'));
  fs.writeFileSync(path.join(dir, 'cells'), cells.map((c) => `${c}\n`).join(''));
  const fake = path.join(dir, 'vtctlclient');
  fs.writeFileSync(
    fake,
    [
      '#!/bin/bash',
      `state=${dir}`,
      'printf "%s\\n" "$*" >> "$state/calls"',
      'shift # -server=...',
      'case "$1" in',
      '  GetCellInfoNames) cat "$state/cells" ;;',
      '  AddCellInfo) echo "${@: -1}" >> "$state/cells" ;;',
      '  *) echo "unknown command $1" >&2; exit 1 ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const local = script.split('/vt/bin/vtctlclient').join(fake);
  const result = spawnSync('/bin/bash', ['-c', local], { encoding: 'utf8', timeout: 20000 });
  const callsFile = path.join(dir, 'calls');
  const calls = fs.existsSync(callsFile) ? fs.readFileSync(callsFile, 'utf8').trim().split('\n') : [];
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, calls };
}

describe('VtctlJob', () => {
  test('renders a Job that runs vtctlclient in the release image', () => {
    // GIVEN
    const chart = testChart();
    // WHEN
    const job = new VtctlJob(chart, 'Job', {
      vtctld,
      jobName: 'vtctl-rebuildvschemagraph',
      commands: [['RebuildVSchemaGraph']],
    });
    // THEN
    const [obj] = Testing.synth(chart);
    expect(obj.kind).toBe('Job');
    expect(obj.metadata.name).toBe('vtctl-rebuildvschemagraph');
    expect(obj.spec.backoffLimit).toBe(2);
    expect(obj.spec.ttlSecondsAfterFinished).toBe(86400);
    const pod = obj.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers[0].image).toBe('vitess/lite:v9.0.0');
    expect(pod.securityContext.runAsUser).toBe(999);
    expect(job.commandLines).toEqual([['/vt/bin/vtctlclient', '-server=vtctld:15999', 'RebuildVSchemaGraph']]);
    const invocations = vitessInvocations([obj]);
    expect(invocations.map((i) => i.args)).toEqual([
      ['-server=vtctld:15999', 'GetCellInfoNames'],
      ['-server=vtctld:15999', 'RebuildVSchemaGraph'],
    ]);
    expect(checkInvocations(invocations, 'legacy')).toEqual([]);
  });

  test('quotes arguments so that SQL reaches vtctlclient as one argument', () => {
    const chart = testChart();
    const sql = "CREATE TABLE t (\n  a VARCHAR(3) DEFAULT 'x'\n)";
    new VtctlJob(chart, 'Job', { vtctld, jobName: 'schema', commands: [['ApplySchema', `-sql=${sql}`, 'ks']] });
    const invocations = vitessInvocations(Testing.synth(chart));
    expect(invocations[invocations.length - 1].args).toEqual(['-server=vtctld:15999', 'ApplySchema', `-sql=${sql}`, 'ks']);
  });

  test('runs the command when its work is not done yet', () => {
    const chart = testChart();
    const etcd = new EtcdCell(chart, 'Etcd', { cell: 'test' });
    etcd.addCellInfoJob(chart, 'AddCellInfo', vtctld);
    const job = Testing.synth(chart).find((o) => o.kind === 'Job');
    const run = runScript(scriptOf(job), ['global']);
    expect(run.status).toBe(0);
    // Is it done? (no) Does vtctld answer? (yes) Is it done now? (no) Then act.
    expect(run.calls).toEqual([
      '-server=vtctld:15999 GetCellInfoNames',
      '-server=vtctld:15999 GetCellInfoNames',
      '-server=vtctld:15999 GetCellInfoNames',
      '-server=vtctld:15999 AddCellInfo -root=/test -server_address=http://etcd-test-client:2379 test',
    ]);
    expect(run.stdout).toContain('ready: vtctld answers');
    expect(run.stdout).toContain('done');
  });

  test('does nothing when applied again after its work is done', () => {
    const chart = testChart();
    const etcd = new EtcdCell(chart, 'Etcd', { cell: 'test' });
    etcd.addCellInfoJob(chart, 'AddCellInfo', vtctld);
    const job = Testing.synth(chart).find((o) => o.kind === 'Job');
    const run = runScript(scriptOf(job), ['test']);
    expect(run.status).toBe(0);
    expect(run.calls.filter((c) => c.includes('AddCellInfo'))).toEqual([]);
    expect(run.stdout).toContain("already done (cell 'test' registered in the global topology): nothing to do");
  });

  test('fails with a message naming the precondition that did not hold', () => {
    const chart = testChart();
    new VtctlJob(chart, 'Job', {
      vtctld,
      jobName: 'needs-cell',
      waitFor: [JobCondition.cellRegistered('other')],
      waitTimeout: Duration.seconds(2),
      pollInterval: Duration.seconds(1),
      commands: [['RebuildVSchemaGraph']],
    });
    const run = runScript(scriptOf(Testing.synth(chart)[0]), ['test']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("FAILED: gave up after 2s waiting for: cell 'other' registered in the global topology");
    expect(run.calls.filter((c) => c.includes('RebuildVSchemaGraph'))).toEqual([]);
  });

  test('fails for a command the release does not have', () => {
    const chart = testChart();
    expect(
      () => new VtctlJob(chart, 'Job', { vtctld, jobName: 'x', commands: [['InitShardPrimary', 'ks/0', 'test-100']] }),
    ).toThrow(/VtctlJob x: Vitess v9.0.0 has no vtctlclient command 'InitShardPrimary'/);
  });

  test('fails for a bad job name', () => {
    expect(() => new VtctlJob(testChart(), 'Job', { vtctld, jobName: 'Bad_Name', commands: [['RebuildVSchemaGraph']] })).toThrow(
      /VtctlJob: 'jobName' must be a DNS-1123 label .*got 'Bad_Name'/,
    );
  });

  test('fails for no commands', () => {
    expect(() => new VtctlJob(testChart(), 'Job', { vtctld, jobName: 'x', commands: [] })).toThrow(
      /VtctlJob x: 'commands' must hold at least one command, got none/,
    );
  });

  test('fails for a negative backoff limit', () => {
    expect(
      () => new VtctlJob(testChart(), 'Job', { vtctld, jobName: 'x', commands: [['RebuildVSchemaGraph']], backoffLimit: -1 }),
    ).toThrow(/'backoffLimit' must be a whole number of at least 0, got -1/);
  });

  test('fails for a wait shorter than the poll interval', () => {
    expect(
      () =>
        new VtctlJob(testChart(), 'Job', {
          vtctld,
          jobName: 'x',
          commands: [['RebuildVSchemaGraph']],
          waitTimeout: Duration.seconds(1),
          pollInterval: Duration.seconds(5),
        }),
    ).toThrow(/'waitTimeout' \(1s\) must be at least 'pollInterval' \(5s\)/);
  });

});

