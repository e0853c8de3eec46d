// The example's Jobs against the simulated cluster where it behaves as Vitess does and the Jobs
// once took a state for done too early: tablets that register before they can take part in an
// election, a keyspace without a durability policy, a workflow's streams before they have picked
// their source, a backup directory without its MANIFEST, and `Reshard complete` dropping the source
// shard. Each behaviour is cited from the Vitess source of the release (v9.0.0, and v22.0.4 with
// v22.0.1 alike, around the image's v22.0.3) in test/util/fake-vitess-cli.ts and lib/jobs/job-condition.ts.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import { buildVReplicationFlow, buildVtworkerFlow } from '../main';
import { VitessRelease } from '../lib';
import { FakeCluster, JobRun, changingCommands, expectJobsSucceeded } from './util/fake-cluster';
import { baseName } from './util/synth';

function chartObjects(app: App): Map<string, any[]> {
  return new Map(app.charts.map((chart) => [chart.node.id, chart.toJson()]));
}

const vtworker = chartObjects(buildVtworkerFlow(fs.mkdtempSync(path.join(os.tmpdir(), 'guide-')))[0]);
const vreplication = chartObjects(buildVReplicationFlow(fs.mkdtempSync(path.join(os.tmpdir(), 'current-')))[0]);
const vreplicationV24 = chartObjects(
  buildVReplicationFlow(fs.mkdtempSync(path.join(os.tmpdir(), 'current-v24-')), { modernRelease: VitessRelease.V24_0 })[0],
);

function job(charts: Map<string, any[]>, file: string, name: string): any {
  const found = charts.get(file)!.find((o) => o.kind === 'Job' && baseName(o) === name);
  expect(found).toBeDefined();
  return found;
}

function jobs(charts: Map<string, any[]>, file: string, names: string[]): any[] {
  return names.map((name) => job(charts, file, name));
}

function statuses(runs: JobRun[]): [string, number][] {
  return runs.map((run) => [run.name, run.status]);
}

let cluster: FakeCluster;
afterEach(() => cluster?.dispose());

describe('the first primary election waits until every tablet can take part', () => {
  test('v9: InitShardMaster runs once the tablets answer and report their MySQL port', () => {
    // Registered right away, ready only after 12 invocations of the fake: the first polls see
    // MySQL port 0 and failing pings.
    cluster = new FakeCluster(50, 12);
    cluster.apply(vtworker.get('01-tablets-test-keyspace-0')!);
    const runs = cluster.apply(jobs(vtworker, '02-init', ['vtctl-addcellinfo-test', 'vtctl-initshardmaster-test-keyspace-0']));
    expectJobsSucceeded(runs);
    const election = runs[1];
    expect(election.stdout).toContain('waiting for: tablets test-0000000100, test-0000000101, test-0000000102, test-0000000103, test-0000000104 answer and report their MySQL port');
    // It polled while the tablets were starting, and elected only after.
    const firstElection = election.calls.findIndex((c) => c.startsWith('vtctlclient InitShardMaster'));
    expect(election.calls.slice(0, firstElection).filter((c) => c.startsWith('vtctlclient ListAllTablets')).length).toBeGreaterThan(1);
    expect(changingCommands([election])).toEqual(['vtctlclient InitShardMaster -force test_keyspace/0 test-0000000100']);
    expect(cluster.state.shards['test_keyspace/0'].primary).toBe('test-0000000100');
  });

  test('v9: tablets that never get ready make the Job give up without electing', () => {
    cluster = new FakeCluster(5, 1000);
    cluster.apply(vtworker.get('01-tablets-test-keyspace-0')!);
    const runs = cluster.apply(jobs(vtworker, '02-init', ['vtctl-addcellinfo-test', 'vtctl-initshardmaster-test-keyspace-0']));
    expect(statuses(runs)).toEqual([
      ['vtctl-addcellinfo-test', 0],
      ['vtctl-initshardmaster-test-keyspace-0', 1],
    ]);
    expect(runs[1].stderr).toContain('FAILED: gave up after 600s waiting for: tablets test-0000000100');
    expect(runs[1].stderr).toContain('test-0000000100 test_keyspace 0 replica vttablet-100-0.vttablet.default.svc.cluster.local:15002 vttablet-100-0.vttablet.default.svc.cluster.local:0');
    expect(changingCommands(runs)).toEqual([expect.stringMatching(/^vtctlclient AddCellInfo /)]);
    expect(cluster.state.shards['test_keyspace/0'].primary).toBeNull();
  });

  test('v9: InitShardMaster that records the primary while the replicas do not replicate: the Job fails and does not run it again', () => {
    // As on MariaDB 10.11 with Vitess v9.0.0 (test/e2e/vitess.ts): every replica's InitReplica
    // times out, after the shard has recorded the primary.
    cluster = new FakeCluster(50);
    cluster.update((state) => {
      state.replicasMissElection = true;
    });
    cluster.apply(vtworker.get('01-tablets-test-keyspace-0')!);
    const runs = cluster.apply(jobs(vtworker, '02-init', ['vtctl-addcellinfo-test', 'vtctl-initshardmaster-test-keyspace-0']));
    expect(statuses(runs)).toEqual([
      ['vtctl-addcellinfo-test', 0],
      ['vtctl-initshardmaster-test-keyspace-0', 1],
    ]);
    const election = runs[1];
    expect(election.stderr).toContain('tablet test-0000000101 InitReplica failed: rpc error: code = DeadlineExceeded desc = context deadline exceeded');
    expect(election.stderr).toContain(
      'FAILED: refusing to act: shard test_keyspace/0 has a primary, and the work is not done (it is when: ' +
        '(shard test_keyspace/0 has a primary and tablets test-0000000100, test-0000000101, test-0000000102, test-0000000103, test-0000000104 ' +
        'have replicated an election (a row in _vt.reparent_journal)) or cell',
    );
    expect(election.stderr).toContain("Table '_vt.reparent_journal' doesn't exist");
    expect(changingCommands([election])).toEqual(['vtctlclient InitShardMaster -force test_keyspace/0 test-0000000100']);
    // Applied again, it still refuses: -force would reset the primary's binary logs.
    const again = cluster.apply(jobs(vtworker, '02-init', ['vtctl-initshardmaster-test-keyspace-0']));
    expect(statuses(again)).toEqual([['vtctl-initshardmaster-test-keyspace-0', 1]]);
    expect(again[0].stderr).toContain('FAILED: refusing to act: shard test_keyspace/0 has a primary');
    expect(changingCommands(again)).toEqual([]);
  });

  test('v9: once every tablet has replicated the election, the Job applied again does nothing', () => {
    cluster = new FakeCluster(50);
    cluster.apply(vtworker.get('01-tablets-test-keyspace-0')!);
    expectJobsSucceeded(cluster.apply(jobs(vtworker, '02-init', ['vtctl-addcellinfo-test', 'vtctl-initshardmaster-test-keyspace-0'])));
    expect(cluster.state.tablets['test-0000000104'].journalRows).toBe(1);
    const again = cluster.apply(jobs(vtworker, '02-init', ['vtctl-initshardmaster-test-keyspace-0']));
    expectJobsSucceeded(again);
    expect(again[0].stdout).toContain('already done (');
    expect(again[0].calls.filter((c) => c.startsWith('vtctlclient ExecuteFetchAsDba -json'))).toHaveLength(5);
    expect(changingCommands(again)).toEqual([]);
  });

  test('v22: PlannedReparentShard runs once the tablets can take part', () => {
    cluster = new FakeCluster(50, 12);
    cluster.apply(vreplication.get('01-tablets-test-keyspace-0')!);
    const runs = cluster.apply(
      jobs(vreplication, '02-init', [
        'vtctl-addcellinfo-test',
        'vtctl-setkeyspacedurabilitypolicy-test-keyspace',
        'vtctl-plannedreparentshard-test-keyspace-0',
      ]),
    );
    expectJobsSucceeded(runs);
    const election = runs[2];
    const first = election.calls.findIndex((c) => c.startsWith('vtctldclient PlannedReparentShard'));
    expect(election.calls.slice(0, first).filter((c) => c.startsWith('vtctldclient GetTablets')).length).toBeGreaterThan(1);
    expect(election.calls.slice(0, first)).toContain('vtctldclient PingTablet test-0000000104');
    expect(cluster.state.shards['test_keyspace/0'].primary).toBe('test-0000000100');
  });
});

test('v22: PlannedReparentShard waits for the keyspace durability policy; a missing one would mean none', () => {
  cluster = new FakeCluster();
  cluster.apply(vreplication.get('01-tablets-test-keyspace-0')!);
  const prs = job(vreplication, '02-init', 'vtctl-plannedreparentshard-test-keyspace-0');
  // The election applied before the policy (Jobs of one file run at once): it waits, gives up, elects nothing.
  const early = cluster.apply([job(vreplication, '02-init', 'vtctl-addcellinfo-test'), prs]);
  expect(statuses(early)).toEqual([
    ['vtctl-addcellinfo-test', 0],
    ['vtctl-plannedreparentshard-test-keyspace-0', 1],
  ]);
  expect(early[1].stderr).toContain("FAILED: gave up after 600s waiting for: keyspace 'test_keyspace' has a durability policy");
  expect(cluster.state.shards['test_keyspace/0'].primary).toBeNull();
  // Once the policy is set, the election runs under it.
  const late = cluster.apply([job(vreplication, '02-init', 'vtctl-setkeyspacedurabilitypolicy-test-keyspace'), prs]);
  expectJobsSucceeded(late);
  expect(cluster.state.shards['test_keyspace/0']).toMatchObject({ primary: 'test-0000000100', electedDurability: 'semi_sync' });
});

test('v22: the create Job waits past the streams picking their source tablet and copying', () => {
  cluster = new FakeCluster();
  for (const file of ['01-tablets-test-keyspace-0', '02-init', '10-reshard-new-shards']) {
    expectJobsSucceeded(cluster.apply(vreplication.get(file)!));
  }
  const [create] = cluster.apply(vreplication.get('11-reshard-create')!);
  expectJobsSucceeded([create]);
  const shows = create.calls.filter((c) => / show /.test(c));
  // Picking (Running, no copy states, no position), copying, then done: three looks at least.
  expect(shows.length).toBeGreaterThanOrEqual(3);
  expect(cluster.state.workflows['test_keyspace.reshard']).toMatchObject({ pickPolls: 0, copyPolls: 0 });
});

describe('a backup counts once its MANIFEST exists', () => {
  const initFiles = ['01-tablets-test-keyspace-0'];
  const before = ['vtctl-addcellinfo-test', 'vtctl-initshardmaster-test-keyspace-0', 'vtctl-applyschema-test-keyspace-messages'];

  test('v9: a backup directory without a MANIFEST (running or aborted) does not make the Backup Job skip', () => {
    cluster = new FakeCluster();
    cluster.apply(vtworker.get(initFiles[0])!);
    expectJobsSucceeded(cluster.apply(jobs(vtworker, '02-init', before)));
    // What a backup that is still running, or was aborted, leaves: ListBackups lists it.
    const incomplete = path.join(cluster.backupRoot, 'test_keyspace', '0', '2026-11-24.100000.test-0000000103');
    fs.mkdirSync(incomplete, { recursive: true });
    const runs = cluster.apply(jobs(vtworker, '02-init', ['vtctl-backup-test-0000000104', 'vtctl-rebuildvschemagraph']));
    expectJobsSucceeded(runs);
    expect(runs[0].stdout).not.toContain('already done');
    // The tablets built the cell's SrvVSchema with the keyspace when they registered (v9.0.0
    // go/vt/vttablet/tabletmanager/tm_init.go 394-411), so RebuildVSchemaGraph has nothing to do.
    expect(runs[1].stdout).toContain("already done (the SrvVSchema of cell 'test' has keyspace 'test_keyspace')");
    expect(changingCommands(runs)).toEqual(['vtctlclient Backup test-0000000104']);
    expect(fs.existsSync(path.join(cluster.backupRoot, 'test_keyspace', '0', '2026-11-25.120001.test-0000000104', 'MANIFEST'))).toBe(true);
  });

  test('v9: after an aborted backup, the next Job waits instead of going on', () => {
    cluster = new FakeCluster();
    cluster.apply(vtworker.get(initFiles[0])!);
    expectJobsSucceeded(cluster.apply(jobs(vtworker, '02-init', before)));
    cluster.update((state) => {
      state.backupAborts = true;
      // DeleteSrvVSchema test: RebuildVSchemaGraph has work to do again (the tablets build the
      // SrvVSchema only when they register).
      delete state.srvVSchema;
    });
    const runs = cluster.apply(jobs(vtworker, '02-init', ['vtctl-backup-test-0000000104', 'vtctl-rebuildvschemagraph']));
    expect(statuses(runs)).toEqual([
      ['vtctl-backup-test-0000000104', 1],
      ['vtctl-rebuildvschemagraph', 1],
    ]);
    expect(runs[1].stderr).toContain('FAILED: gave up after 600s waiting for: a complete backup of test_keyspace/0 (with its MANIFEST) exists');
    // Kubernetes retries the Backup pod: it takes a backup, and the next Job goes on.
    const retried = cluster.apply(jobs(vtworker, '02-init', ['vtctl-backup-test-0000000104', 'vtctl-rebuildvschemagraph']));
    expectJobsSucceeded(retried);
    expect(changingCommands(retried)).toEqual(['vtctlclient Backup test-0000000104', 'vtctlclient RebuildVSchemaGraph']);
  });

  test('the Backup and RebuildVSchemaGraph Jobs mount the backup volume read-only to look', () => {
    for (const charts of [vtworker, vreplication]) {
      for (const name of ['vtctl-backup-test-0000000104', 'vtctl-rebuildvschemagraph']) {
        const spec = job(charts, '02-init', name).spec.template.spec;
        expect(spec.volumes).toContainEqual({ name: 'backups', nfs: { server: 'nfs.example.internal', path: '/exports/vitess-backups' } });
        expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'backups', mountPath: '/vt/backups', readOnly: true });
        expect(spec.containers[0].command[2]).toContain('for manifest in /vt/backups/test_keyspace/0/*/MANIFEST; do');
      }
    }
  });
});

describe('v9: serving rdonly from the new shards waits for SplitDiff to have found no differences', () => {
  /** The cluster resharded up to the copy: the files before SplitDiff applied. */
  function beforeSplitDiff(): FakeCluster {
    const fake = new FakeCluster();
    for (const file of ['01-tablets-test-keyspace-0', '02-init', '10-reshard-new-shards', '11-reshard-copy-schema', '12-reshard-split-clone']) {
      expectJobsSucceeded(fake.apply(vtworker.get(file)!));
    }
    return fake;
  }
  const migrateRdonly = () => vtworker.get('14-reshard-migrate-rdonly')!;

  test('applied before SplitDiff has run, it waits and gives up', () => {
    cluster = beforeSplitDiff();
    // The SplitDiff file's objects but not its Job: its result ConfigMap exists, unset.
    cluster.apply(vtworker.get('13-reshard-split-diff')!.filter((o) => o.kind !== 'Job'));
    const runs = cluster.apply(migrateRdonly());
    expect(statuses(runs)).toEqual([['vtctl-migrateservedtypes-test-keyspace-0-rdonly', 1]]);
    expect(runs[0].stderr).toContain('FAILED: gave up after 600s waiting for: ConfigMap vtworker-splitdiff-test-keyspace-0-result has result=succeeded');
    expect(changingCommands(runs)).toEqual([]);
    expect(cluster.state.srv.test_keyspace.partitions[3]).toEqual(['0']);
  });

  test('a SplitDiff that finds differences leaves its result running, so rdonly is not migrated', () => {
    cluster = beforeSplitDiff();
    // vtworker exits with 1 when a table differs (v9.0.0 go/vt/worker/split_diff.go 560-575).
    cluster.update((state) => {
      state.splitDiffFindsDifferences = true;
    });
    const diff = cluster.apply(vtworker.get('13-reshard-split-diff')!);
    expect(statuses(diff)).toEqual([['vtworker-splitdiff-test-keyspace-xx-80-80-xx', 1]]);
    expect(cluster.state.configMaps!['vtworker-splitdiff-test-keyspace-0-result']).toEqual({ result: 'running' });
    const runs = cluster.apply(migrateRdonly());
    expect(statuses(runs)).toEqual([['vtctl-migrateservedtypes-test-keyspace-0-rdonly', 1]]);
    expect(changingCommands(runs)).toEqual([]);
  });

  test('after a clean SplitDiff it migrates; applying the SplitDiff file again keeps the result', () => {
    cluster = beforeSplitDiff();
    expectJobsSucceeded(cluster.apply(vtworker.get('13-reshard-split-diff')!));
    expect(cluster.state.configMaps!['vtworker-splitdiff-test-keyspace-0-result']).toEqual({ result: 'succeeded' });
    cluster.apply(vtworker.get('13-reshard-split-diff')!.filter((o) => o.kind !== 'Job'));
    expect(cluster.state.configMaps!['vtworker-splitdiff-test-keyspace-0-result']).toEqual({ result: 'succeeded' });
    const runs = cluster.apply(migrateRdonly());
    expectJobsSucceeded(runs);
    expect(changingCommands(runs)).toEqual(['vtctlclient MigrateServedTypes test_keyspace/0 rdonly']);
  });

  test('each Job may touch only the result ConfigMap: SplitDiff get and patch, the migration get', () => {
    const role = (file: string, name: string) => vtworker.get(file)!.find((o) => o.kind === 'Role' && o.metadata.name === name);
    expect(role('13-reshard-split-diff', 'vtworker-splitdiff-test-keyspace-xx-80-80-xx').rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['vtworker-splitdiff-test-keyspace-0-result'], verbs: ['get', 'patch'] },
    ]);
    expect(role('14-reshard-migrate-rdonly', 'vtctl-migrateservedtypes-test-keyspace-0-rdonly').rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['vtworker-splitdiff-test-keyspace-0-result'], verbs: ['get'] },
    ]);
    for (const [file, name] of [
      ['13-reshard-split-diff', 'vtworker-splitdiff-test-keyspace-xx-80-80-xx'],
      ['14-reshard-migrate-rdonly', 'vtctl-migrateservedtypes-test-keyspace-0-rdonly'],
    ]) {
      const objects = vtworker.get(file)!;
      const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata.name === name);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name }]);
      const pod = job(vtworker, file, name).spec.template.spec;
      expect(pod).toMatchObject({ serviceAccountName: name, automountServiceAccountToken: true });
    }
    // The result ConfigMap is created without data, so that applying the file again keeps the result.
    const result = vtworker.get('13-reshard-split-diff')!.find((o) => o.kind === 'ConfigMap');
    expect(result.metadata.name).toBe('vtworker-splitdiff-test-keyspace-0-result');
    expect(result.data).toBeUndefined();
    // Every other Job runs without a token.
    for (const [file, objects] of vtworker) {
      for (const other of objects.filter((o) => o.kind === 'Job' && !['vtworker-splitdiff-test-keyspace-xx-80-80-xx', 'vtctl-migrateservedtypes-test-keyspace-0-rdonly'].includes(baseName(o)))) {
        expect({ file, job: baseName(other), token: other.spec.template.spec.automountServiceAccountToken }).toEqual({ file, job: baseName(other), token: false });
      }
    }
  });
});

describe('after the whole flow, every Job applied again finds its work done', () => {
  /**
   * Every file applied in order as the walk-through does: the old tablets deleted before the last
   * file (the VReplication flow: after `complete`, which the old tablets outlive by a restart that
   * re-creates shard 0, deleted by the last file).
   */
  function wholeFlow(charts: Map<string, any[]>, deleteShardFile: string): FakeCluster {
    const fake = new FakeCluster();
    for (const [file, objects] of charts) {
      if (file === deleteShardFile) {
        fake.delete(charts.get('01-tablets-test-keyspace-0')!);
      }
      expectJobsSucceeded(fake.apply(objects));
      if (file === '15-reshard-complete') {
        fake.tick();
      }
    }
    expect(Object.keys(fake.state.shards).sort()).toEqual(['test_keyspace/-80', 'test_keyspace/80-']);
    expect(Object.values(fake.state.tablets).filter((t) => t.shard === '0' && (t.up || t.registered))).toEqual([]);
    return fake;
  }

  /** Every Job of the flow run again (`kubectl delete job` and `apply`), without the tablets. */
  function rerunEveryJob(charts: Map<string, any[]>): JobRun[] {
    const runs = [...charts.values()].flatMap((objects) => cluster.apply(objects.filter((o) => o.kind === 'Job')));
    expect(runs.length).toBeGreaterThan(10);
    for (const run of runs) {
      expect({ job: run.name, status: run.status, stderr: run.stderr, skipped: /^already done \(.*\): nothing to do$/m.test(run.stdout) }).toEqual({
        job: run.name,
        status: 0,
        stderr: '',
        skipped: true,
      });
    }
    expect(changingCommands(runs)).toEqual([]);
    return runs;
  }

  test('v9: the vtworker flow, after DeleteShard', () => {
    cluster = wholeFlow(vtworker, '17-reshard-delete-shard');
    const runs = rerunEveryJob(vtworker);
    const byName = new Map(runs.map((run) => [run.name, run.stdout]));
    expect(byName.get('vtctl-initshardmaster-test-keyspace-0')).toContain(
      "already done ((shard test_keyspace/0 has a primary and tablets test-0000000100, test-0000000101, test-0000000102, test-0000000103, test-0000000104 " +
        "have replicated an election (a row in _vt.reparent_journal)) or cell 'test' serves primary of test_keyspace from shards -80, 80-)",
    );
    expect(byName.get('vtctl-applyschema-test-keyspace-messages')).toContain('already done (table');
    expect(byName.get('vtctl-rebuildvschemagraph')).toContain("already done (the SrvVSchema of cell 'test' has keyspace 'test_keyspace')");
    expect(byName.get('vtctl-applyvschema-test-keyspace')).toContain("already done (the VSchema of keyspace 'test_keyspace' is sharded");
    expect(byName.get('vtctl-deleteshard-test-keyspace-0')).toContain('already done (');
  });

  test.each([
    ['v22', vreplication],
    ['v24', vreplicationV24],
  ])('%s: the VReplication flow, after complete and DeleteShards', (_release, charts) => {
    cluster = wholeFlow(charts, '16-reshard-delete-shard');
    const runs = rerunEveryJob(charts);
    const byName = new Map(runs.map((run) => [run.name, run.stdout]));
    expect(byName.get('vtctl-plannedreparentshard-test-keyspace-0')).toContain(
      "already done (shard test_keyspace/0 has a primary or cell 'test' serves primary of test_keyspace from shards -80, 80-)",
    );
    expect(byName.get('vtctl-rebuildvschemagraph')).toContain("already done (the SrvVSchema of cell 'test' has keyspace 'test_keyspace')");
    expect(byName.get('vtctl-applyvschema-test-keyspace')).toContain("already done (the VSchema of keyspace 'test_keyspace' is sharded");
  });
});
