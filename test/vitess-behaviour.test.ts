// The example's Jobs against the simulated cluster where it behaves as Vitess does and the Jobs
// once took a state for done too early: tablets that register before they can take part in an
// election, a keyspace without a durability policy, a workflow's streams before they have picked
// their source, a backup directory without its MANIFEST, and `Reshard complete` dropping the source
// shard. Each behaviour is cited from the Vitess source of the release (v9.0.0, and v22.0.4 with
// v22.0.1 alike, around the image's v22.0.3) in test/util/fake-vitess-cli.ts and lib/job-condition.ts.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import { buildVReplicationFlow, buildVtworkerFlow } from '../main';
import { FakeCluster, JobRun, changingCommands, expectJobsSucceeded } from './util/fake-cluster';

function chartObjects(app: App): Map<string, any[]> {
  return new Map(app.charts.map((chart) => [chart.node.id, chart.toJson()]));
}

const vtworker = chartObjects(buildVtworkerFlow(fs.mkdtempSync(path.join(os.tmpdir(), 'guide-')))[0]);
const vreplication = chartObjects(buildVReplicationFlow(fs.mkdtempSync(path.join(os.tmpdir(), 'current-')))[0]);

function job(charts: Map<string, any[]>, file: string, name: string): any {
  const found = charts.get(file)!.find((o) => o.kind === 'Job' && o.metadata.name === name);
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
    cluster = new FakeCluster(10, 12);
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
    cluster = new FakeCluster(1, 1000);
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

  test('v22: PlannedReparentShard runs once the tablets can take part', () => {
    cluster = new FakeCluster(10, 12);
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
  cluster = new FakeCluster(1);
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
  cluster = new FakeCluster(1);
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
  const before = ['vtctl-addcellinfo-test', 'vtctl-initshardmaster-test-keyspace-0', 'vtctl-applyschema-test-keyspace'];

  test('v9: a backup directory without a MANIFEST (running or aborted) does not make the Backup Job skip', () => {
    cluster = new FakeCluster(1);
    cluster.apply(vtworker.get(initFiles[0])!);
    expectJobsSucceeded(cluster.apply(jobs(vtworker, '02-init', before)));
    // What a backup that is still running, or was aborted, leaves: ListBackups lists it.
    const incomplete = path.join(cluster.backupRoot, 'test_keyspace', '0', '2026-11-24.100000.test-0000000103');
    fs.mkdirSync(incomplete, { recursive: true });
    const runs = cluster.apply(jobs(vtworker, '02-init', ['vtctl-backup-test-0000000104', 'vtctl-rebuildvschemagraph']));
    expectJobsSucceeded(runs);
    expect(runs[0].stdout).not.toContain('already done');
    expect(changingCommands(runs)).toEqual(['vtctlclient Backup test-0000000104', 'vtctlclient RebuildVSchemaGraph']);
    expect(fs.existsSync(path.join(cluster.backupRoot, 'test_keyspace', '0', '2026-11-25.120001.test-0000000104', 'MANIFEST'))).toBe(true);
  });

  test('v9: after an aborted backup, the next Job waits instead of going on', () => {
    cluster = new FakeCluster(1);
    cluster.apply(vtworker.get(initFiles[0])!);
    expectJobsSucceeded(cluster.apply(jobs(vtworker, '02-init', before)));
    cluster.update((state) => {
      state.backupAborts = true;
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
