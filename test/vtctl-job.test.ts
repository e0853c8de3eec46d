import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Testing } from 'cdk8s';
import { k8s } from '../imports/k8s';
import {
  EtcdCell,
  IVtctld,
  JobCondition,
  PodExtensions,
  UserIds,
  VitessRelease,
  VtctlJob,
  Vtctld,
  WorkloadOptions,
} from '../lib';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { container, findObject, testChart } from './util/synth';

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
    expect(obj.metadata.name).toMatch(/^vtctl-rebuildvschemagraph-[0-9a-f]{5}$/);
    expect(obj.metadata.labels.job).toBe('vtctl-rebuildvschemagraph');
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

  test("names the Job after its content: the same content the same name, other content another, the label 'job' the base", () => {
    const make = (commands: string[][], jobName = 'vtctl-x') => {
      const chart = testChart();
      new VtctlJob(chart, 'Job', { vtctld, jobName, commands });
      return Testing.synth(chart)[0].metadata;
    };
    const a = make([['RebuildVSchemaGraph']]);
    expect(make([['RebuildVSchemaGraph']]).name).toBe(a.name);
    const b = make([['RebuildVSchemaGraph', '-cells=test']]);
    expect(b.name).not.toBe(a.name);
    expect([a.labels.job, b.labels.job]).toEqual(['vtctl-x', 'vtctl-x']);
    // The longest base name still makes an object name of at most 63 characters.
    expect(make([['RebuildVSchemaGraph']], 'v'.repeat(57)).name).toHaveLength(63);
    expect(() => make([['RebuildVSchemaGraph']], 'v'.repeat(58))).toThrow(
      `VtctlJob: 'jobName' must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit) of at most 57 characters (the Job's name adds '-' and 5 of its content's hash), got '${'v'.repeat(58)}'`,
    );
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

/** The workload options of the vtctld in the pod option tests, none at its default. */
const WORKLOAD_OPTIONS: Required<Omit<WorkloadOptions, 'networkPolicy' | keyof PodExtensions>> = {
  nodeSelector: { 'node-pool': 'jobs' },
  tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }],
      },
    },
  },
  priorityClassName: 'vitess-batch',
  imagePullSecrets: ['registry-credentials'],
  userIds: UserIds.PLATFORM_ASSIGNED,
};

/** A VtctlJob against a Vtctld construct with the given options, and the synthesized Job. */
function jobAgainstVtctld(options: WorkloadOptions) {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  const vtctldConstruct = new Vtctld(chart, 'Vtctld', { globalTopology, cell: 'test', ...options });
  new VtctlJob(chart, 'Job', { vtctld: vtctldConstruct, jobName: 'vtctl-rebuildvschemagraph', commands: [['RebuildVSchemaGraph']] });
  const objects = Testing.synth(chart);
  return { chart, vtctld: vtctldConstruct, objects, job: findObject(objects, 'Job', 'vtctl-rebuildvschemagraph') };
}

describe('VtctlJob pod', () => {
  test('runs as the numeric vitess user with a restricted, read-only container and a writable /tmp', () => {
    // GIVEN
    const chart = testChart();
    // WHEN
    new VtctlJob(chart, 'Job', { vtctld, jobName: 'x', commands: [['RebuildVSchemaGraph']] });
    // THEN
    const job = findObject(Testing.synth(chart), 'Job', 'x');
    const pod = job.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toEqual({
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers.map((c: any) => c.name)).toEqual(['vtctl']);
    const c = container(job, 'vtctl');
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.image).toBe('vitess/lite:v9.0.0');
  });

  test('requests CPU and memory and limits memory only, unless given resources', () => {
    const chart = testChart();
    new VtctlJob(chart, 'Default', { vtctld, jobName: 'default', commands: [['RebuildVSchemaGraph']] });
    new VtctlJob(chart, 'Sized', {
      vtctld,
      jobName: 'sized',
      commands: [['RebuildVSchemaGraph']],
      resources: {
        requests: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('128Mi') },
        limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('512Mi') },
      },
    });
    const objects = Testing.synth(chart);
    expect(container(findObject(objects, 'Job', 'default'), 'vtctl').resources).toEqual({
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { memory: '256Mi' },
    });
    expect(container(findObject(objects, 'Job', 'sized'), 'vtctl').resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    });
  });

  test('a vtctld without workload options gives its Jobs none', () => {
    const pod = jobAgainstVtctld({}).job.spec.template.spec;
    expect(pod.securityContext).toEqual({
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.tolerations).toBeUndefined();
    expect(pod.affinity).toBeUndefined();
    expect(pod.priorityClassName).toBeUndefined();
    expect(pod.imagePullSecrets).toBeUndefined();
    expect(pod.topologySpreadConstraints).toBeUndefined();
  });

  test("takes the vtctld's node selector, tolerations, priority class, pull secrets and user IDs, not its affinity", () => {
    // WHEN
    const { job } = jobAgainstVtctld(WORKLOAD_OPTIONS);
    // THEN
    const pod = job.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'node-pool': 'jobs' });
    expect(pod.tolerations).toEqual([{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.priorityClassName).toBe('vitess-batch');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.affinity).toBeUndefined();
    expect(pod.topologySpreadConstraints).toBeUndefined();
    expect(container(job, 'vtctl').securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
  });

  test('Jobs made by construct methods take the same options', () => {
    // GIVEN
    const { chart, vtctld: vtctldConstruct } = jobAgainstVtctld(WORKLOAD_OPTIONS);
    const etcd = new EtcdCell(chart, 'Etcd', { cell: 'test' });
    // WHEN
    etcd.addCellInfoJob(chart, 'AddCellInfo', vtctldConstruct);
    // THEN
    const job = findObject(Testing.synth(chart), 'Job', 'vtctl-addcellinfo-test');
    const pod = job.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'node-pool': 'jobs' });
    expect(pod.tolerations).toEqual([{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.priorityClassName).toBe('vitess-batch');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.affinity).toBeUndefined();
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
  });

  test('takes the job options of any IVtctld', () => {
    // GIVEN
    const chart = testChart();
    const external: IVtctld = {
      release: VitessRelease.V9_0,
      grpcAddress: 'vtctld.vitess.svc:15999',
      jobOptions: { nodeSelector: { pool: 'ops' }, imagePullSecrets: ['mirror'] },
    };
    // WHEN
    new VtctlJob(chart, 'Job', { vtctld: external, jobName: 'x', commands: [['RebuildVSchemaGraph']] });
    // THEN
    const pod = findObject(Testing.synth(chart), 'Job', 'x').spec.template.spec;
    expect(pod.nodeSelector).toEqual({ pool: 'ops' });
    expect(pod.imagePullSecrets).toEqual([{ name: 'mirror' }]);
    expect(pod.securityContext.runAsUser).toBe(999);
  });

  test('fails for job options that are not valid, naming the Job', () => {
    const withOptions = (jobOptions: WorkloadOptions): IVtctld => ({ release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999', jobOptions });
    const make = (jobOptions: WorkloadOptions) => () =>
      new VtctlJob(testChart(), 'Job', { vtctld: withOptions(jobOptions), jobName: 'x', commands: [['RebuildVSchemaGraph']] });
    expect(make({ priorityClassName: 'Bad_Name' })).toThrow(/^VtctlJob x: 'priorityClassName' must be a DNS-1123 subdomain .*got 'Bad_Name'$/);
    expect(make({ imagePullSecrets: ['Registry'] })).toThrow(/^VtctlJob x: 'imagePullSecrets' must be a DNS-1123 subdomain .*got 'Registry'$/);
    expect(make({ userIds: 'root' as UserIds })).toThrow(/^VtctlJob x: 'userIds' must be one of vitess, platform-assigned, got 'root'$/);
  });

  test.each(KUBERNETES_VERSIONS)('with every option set, the Job is valid Kubernetes %s', (version) => {
    const { job } = jobAgainstVtctld(WORKLOAD_OPTIONS);
    expect(validateManifests([job], version)).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('with the defaults, the Job is valid Kubernetes %s', (version) => {
    const chart = testChart();
    new VtctlJob(chart, 'Job', { vtctld, jobName: 'x', commands: [['RebuildVSchemaGraph']] });
    expect(validateManifests(Testing.synth(chart), version)).toEqual([]);
  });
});
