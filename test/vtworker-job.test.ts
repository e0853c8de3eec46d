import { Testing } from 'cdk8s';
import { EtcdCell, JobCondition, VitessRelease, VtworkerJob } from '../lib';
import { validateManifests, KUBERNETES_VERSIONS } from './util/k8s-schema';
import { releaseWithoutVtworker } from './util/releases';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { testChart } from './util/synth';

const vtctld = { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999' };

function worker(props: Partial<ConstructorParameters<typeof VtworkerJob>[2]> = {}) {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  const job = new VtworkerJob(chart, 'Worker', {
    vtctld,
    globalTopology,
    cell: 'test',
    command: 'SplitClone',
    keyspace: 'test_keyspace',
    shards: ['0'],
    ...props,
  });
  const objects = Testing.synth(chart).filter((o) => o.kind === 'Job');
  return { job, objects };
}

describe('VtworkerJob', () => {
  test('SplitClone of the source shard, with the guide flags', () => {
    const { job, objects } = worker();
    expect(job.jobName).toBe('vtworker-splitclone-test-keyspace-0');
    expect(job.commandLines).toEqual([[
      '/vt/bin/vtworker',
      '-topo_implementation=etcd2',
      '-topo_global_server_address=http://etcd-global-client:2379',
      '-topo_global_root=/global',
      '-cell=test',
      '-use_v3_resharding_mode',
      '-port=15003',
      '-logtostderr',
      'SplitClone',
      '-min_healthy_rdonly_tablets=2',
      'test_keyspace/0',
    ]]);
    const [obj] = objects;
    expect(obj.metadata.name).toMatch(/^vtworker-splitclone-test-keyspace-0-[0-9a-f]{5}$/);
    expect(obj.metadata.labels.job).toBe('vtworker-splitclone-test-keyspace-0');
    expect(obj.spec.backoffLimit).toBe(1);
    expect(obj.spec.template.spec.restartPolicy).toBe('Never');
    const invocations = vitessInvocations(objects);
    expect(invocations.map((i) => i.binary)).toEqual(['vtctlclient', 'vtworker']);
    expect(invocations[1].args).toEqual(job.commandLines[0].slice(1));
    expect(checkInvocations(invocations, 'legacy')).toEqual([]);
  });

  test('SplitDiff per destination shard, with unique names', () => {
    const a = worker({ command: 'SplitDiff', shards: ['-80'] });
    const b = worker({ command: 'SplitDiff', shards: ['80-'], minHealthyRdonlyTablets: 1 });
    expect(a.job.jobName).toBe('vtworker-splitdiff-test-keyspace-xx-80');
    expect(b.job.jobName).toBe('vtworker-splitdiff-test-keyspace-80-xx');
    expect(b.job.commandLines[0].slice(-3)).toEqual(['SplitDiff', '-min_healthy_rdonly_tablets=1', 'test_keyspace/80-']);
    expect(checkInvocations(vitessInvocations([...a.objects, ...b.objects]), 'legacy')).toEqual([]);
  });

  test('several shards run one after the other in one Job', () => {
    const { job, objects } = worker({ command: 'SplitDiff', shards: ['-80', '80-'] });
    expect(job.jobName).toBe('vtworker-splitdiff-test-keyspace-xx-80-80-xx');
    expect(job.commandLines.map((line) => line[line.length - 1])).toEqual(['test_keyspace/-80', 'test_keyspace/80-']);
    const script: string = objects[0].spec.template.spec.containers[0].command[2];
    const first = script.indexOf('SplitDiff -min_healthy_rdonly_tablets=2 test_keyspace/-80 ||');
    const second = script.indexOf('SplitDiff -min_healthy_rdonly_tablets=2 test_keyspace/80- ||');
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    const invocations = vitessInvocations(objects);
    expect(invocations.map((i) => i.binary)).toEqual(['vtctlclient', 'vtworker', 'vtworker']);
    expect(checkInvocations(invocations, 'legacy')).toEqual([]);
  });

  test('waits for its preconditions before vtworker starts', () => {
    const { objects } = worker({ waitFor: [JobCondition.shardHasPrimary('test_keyspace', '-80')] });
    const script: string = objects[0].spec.template.spec.containers[0].command[2];
    expect(script.indexOf("wait_for precondition_1 'shard test_keyspace/-80 has a primary'")).toBeLessThan(
      script.indexOf('/vt/bin/vtworker '),
    );
  });

  test.each(KUBERNETES_VERSIONS)('is valid Kubernetes %s', (version) => {
    expect(validateManifests(worker().objects, version)).toEqual([]);
  });

  test('fails for a release without vtworker', () => {
    const noVtworker = releaseWithoutVtworker();
    expect(() => worker({ vtctld: { release: noVtworker, grpcAddress: 'vtctld:15999' } })).toThrow(
      /VtworkerJob: Vitess v15.0.0 has no vtworker \(removed in v15\); reshard with VReplication/,
    );
  });

  test('fails for Vitess v22.0, which has no vtworker', () => {
    expect(() => worker({ vtctld: { release: VitessRelease.V22_0, grpcAddress: 'vtctld:15999' } })).toThrow(
      /VtworkerJob: Vitess v22.0.3 has no vtworker \(removed in v15\); reshard with VReplication \(Reshard, VDiff, SwitchTraffic\) instead/,
    );
  });

  test('fails for an unknown command or bad input', () => {
    expect(() => worker({ command: 'SplitCopy' })).toThrow(/VtworkerJob: Vitess v9.0.0 has no vtworker command 'SplitCopy'; available: SplitClone, SplitDiff/);
    expect(() => worker({ minHealthyRdonlyTablets: 0 })).toThrow(/'minHealthyRdonlyTablets' must be a whole number of at least 1, got 0/);
    expect(() => worker({ shards: ['80'] })).toThrow(/VtworkerJob: 'shards' must be '0', '-' or a lowercase hex key range/);
    expect(() => worker({ shards: [] })).toThrow(/VtworkerJob: 'shards' must name at least one shard, got none/);
    expect(() => worker({ shards: ['-80', '-80'] })).toThrow(/VtworkerJob: 'shards' must not repeat a shard, got \[-80, -80\]/);
    expect(() => worker({ backoffLimit: -2 })).toThrow(/'backoffLimit' must be a whole number of at least 0, got -2/);
    expect(() => worker({ jobName: 'x'.repeat(64) })).toThrow(/'jobName' must be a DNS-1123 label/);
  });
});
