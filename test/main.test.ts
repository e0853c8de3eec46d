import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import { buildApps, buildVtworkerFlow } from '../main';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { findObject } from './util/synth';

function chartObjects(app: App): Map<string, any[]> {
  return new Map(app.charts.map((chart) => [chart.node.id, chart.toJson()]));
}

function script(job: any): string {
  return job.spec.template.spec.containers[0].command[2];
}

describe('the guide example (Vitess v9.0, vtworker flow)', () => {
  const charts = chartObjects(buildVtworkerFlow(fs.mkdtempSync(path.join(os.tmpdir(), 'guide-'))));
  const all = [...charts.values()].flat();

  test('two files in apply order: the cluster, then the init Jobs', () => {
    expect([...charts.keys()]).toEqual(['00-cluster', '01-init']);
    expect([...charts.keys()].sort()).toEqual([...charts.keys()]);
  });

  test('the cluster: etcd for global and test, vtctld, tablets 100-104, vtgate-test', () => {
    const cluster = charts.get('00-cluster')!;
    for (const cell of ['global', 'test']) {
      expect(findObject(cluster, 'StatefulSet', `etcd-${cell}`).spec.replicas).toBe(3);
      findObject(cluster, 'Service', `etcd-${cell}-client`);
    }
    findObject(cluster, 'Service', 'vtctld');
    findObject(cluster, 'Service', 'vtgate-test');
    const tablets = cluster.filter((o) => o.kind === 'StatefulSet' && o.metadata.name.startsWith('vttablet-'));
    expect(tablets.map((t) => [t.spec.template.metadata.labels.tablet, t.spec.template.metadata.labels['tablet-type']])).toEqual([
      ['test-0000000100', 'replica'],
      ['test-0000000101', 'replica'],
      ['test-0000000102', 'replica'],
      ['test-0000000103', 'rdonly'],
      ['test-0000000104', 'rdonly'],
    ]);
    for (const tablet of tablets) {
      expect(tablet.spec.template.spec.volumes).toEqual([
        { name: 'backups', nfs: { server: 'nfs.example.internal', path: '/exports/vitess-backups' } },
      ]);
    }
  });

  test('the init Jobs run the guide commands, each after the previous one took effect', () => {
    const init = charts.get('01-init')!;
    expect(init.map((o) => o.metadata.name)).toEqual([
      'vtctl-addcellinfo-test',
      'vtctl-initshardmaster-test-keyspace-0',
      'vtctl-applyschema-test-keyspace',
      'vtctl-backup-test-0000000104',
      'vtctl-rebuildvschemagraph',
    ]);
    const actions = init.map((job) => {
      const runs = vitessInvocations([job]).map((i) => i.args.slice(1));
      return runs[runs.length - 1];
    });
    expect(actions[0]).toEqual(['AddCellInfo', '-root=/test', '-server_address=http://etcd-test-client:2379', 'test']);
    expect(actions[1]).toEqual(['InitShardMaster', '-force', 'test_keyspace/0', 'test-0000000100']);
    expect(actions[2][0]).toBe('ApplySchema');
    expect(actions[2][1]).toMatch(/^-sql=CREATE TABLE messages \(\n {2}page BIGINT\(20\) UNSIGNED,/);
    expect(actions[2][2]).toBe('test_keyspace');
    expect(actions[3]).toEqual(['Backup', 'test-0000000104']);
    expect(actions[4]).toEqual(['RebuildVSchemaGraph']);
    // Each Job waits for what the one before it does.
    expect(script(init[1])).toContain("registered in cell '\\''test'\\''");
    expect(script(init[2])).toContain("wait_for precondition_1 'shard test_keyspace/0 has a primary'");
    expect(script(init[3])).toContain("wait_for precondition_1 'table '\\''messages'\\'' exists on tablet test-0000000104'");
    expect(script(init[4])).toContain("wait_for precondition_1 'a backup of test_keyspace/0 exists'");
  });

  test('every Vitess flag and command is known to Vitess v9.0.0', () => {
    const invocations = vitessInvocations(all);
    // 5 tablets x (vttablet + mysqlctld) + vtctld + vtgate, and 2 or 3 vtctlclient runs per Job (waits, skip check, command).
    expect(invocations.filter((i) => i.binary !== 'vtctlclient')).toHaveLength(12);
    expect(invocations.filter((i) => i.binary === 'vtctlclient')).toHaveLength(14);
    expect(checkInvocations(invocations, 'legacy')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s, unknown fields rejected', (version) => {
    expect(all.length).toBe(25);
    expect(validateManifests(all, version)).toEqual([]);
  });

  test('the whole output', () => {
    expect(Object.fromEntries(charts)).toMatchSnapshot();
  });
});

test('main writes each flow into its own folder of dist', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
  for (const app of buildApps(outdir)) {
    app.synth();
  }
  expect(fs.readdirSync(outdir)).toEqual(['vtworker']);
  expect(fs.readdirSync(path.join(outdir, 'vtworker'))).toEqual(['00-cluster.k8s.yaml', '01-init.k8s.yaml']);
  fs.rmSync(outdir, { recursive: true, force: true });
});
