// The optional mysqld_exporter sidecar of the tablet pods (TabletShard and a VitessCluster tablet
// pool's `mysqldExporter`). test/mysqld-exporter.real.test.ts runs its command line against a real
// MariaDB.
import { App, Testing } from 'cdk8s';
import * as os from 'os';
import * as path from 'path';
import {
  EtcdCell,
  GlobalTopology,
  Partitioning,
  TabletPoolSpec,
  TabletPoolType,
  TabletShard,
  TabletShardProps,
  VitessCluster,
  VitessClusterProps,
  VitessRelease,
} from '../lib';
import { k8s } from '../imports/k8s';
import { checkObject } from '../validation';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { container, findObject, testChart } from './util/synth';
import { ReferenceName, checkInvocations, vitessInvocations } from './util/vitess-reference';

const RELEASES: ReadonlyArray<[string, VitessRelease, ReferenceName]> = [
  ['v9.0', VitessRelease.V9_0, 'legacy'],
  ['v22.0', VitessRelease.V22_0, 'modern'],
  ['v24.0', VitessRelease.V24_0, 'v24'],
];

function shard(props: Partial<TabletShardProps> = {}): any[] {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  new TabletShard(chart, 'Shard', { globalTopology, cell: 'test', keyspace: 'test_keyspace', shard: '0', ...props });
  return Testing.synth(chart);
}

/** A TabletShard's constructor with these props, for expect(...).toThrow(). */
function build(props: Partial<TabletShardProps>): () => void {
  return () => shard(props);
}

function tablet(objects: any[], uid: number): any {
  return findObject(objects, 'StatefulSet', `vttablet-${uid}`);
}

describe('TabletShard mysqldExporter', () => {
  test('by default the tablet pods have no exporter, and their scrape annotations name vttablet', () => {
    // WHEN
    const objects = shard();
    // THEN
    const pod = tablet(objects, 100).spec.template;
    expect(pod.spec.containers.map((c: any) => c.name)).toEqual(['vttablet', 'mysql']);
    expect(pod.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '15002', 'prometheus.io/path': '/metrics' });
    expect(findObject(objects, 'Service', 'vttablet-test-keyspace-0-test').spec.ports.map((p: any) => p.name)).toEqual(['web', 'grpc', 'mysql']);
  });

  test.each(RELEASES)('on %s: a sidecar that reads the tablet\'s own mysqld over its socket as vt_monitoring', (_, release, reference) => {
    // WHEN
    const objects = shard({ release, mysqldExporter: {} });
    // THEN each tablet's exporter connects to the socket in its own tablet directory
    for (const uid of [100, 104]) {
      const sts = tablet(objects, uid);
      const exporter = container(sts, 'mysqld-exporter');
      expect(exporter).toEqual({
        name: 'mysqld-exporter',
        image: 'prom/mysqld-exporter:v0.19.0',
        imagePullPolicy: 'IfNotPresent',
        command: ['/bin/mysqld_exporter'],
        args: [
          `--mysqld.address=unix:///vt/vtdataroot/vt_0000000${uid}/mysql.sock`,
          '--mysqld.username=vt_monitoring',
          '--config.my-cnf=',
          '--web.listen-address=:9104',
          '--web.telemetry-path=/metrics',
        ],
        ports: [{ name: 'metrics', containerPort: 9104 }],
        readinessProbe: { httpGet: { path: '/', port: 9104 }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
        livenessProbe: { httpGet: { path: '/', port: 9104 }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
        resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
        volumeMounts: [{ name: 'vtdataroot', mountPath: '/vt/vtdataroot', readOnly: true }],
      });
      // the same volume, at the same path, as the mysql container, whose mysqlctld has this tablet's UID
      expect(container(sts, 'mysql').volumeMounts).toContainEqual({ name: 'vtdataroot', mountPath: '/vt/vtdataroot' });
      expect(container(sts, 'mysql').args).toContain(`${release.flag('tablet_uid', uid)}`);
      // the pod's scrape annotations name the exporter
      expect(sts.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9104', 'prometheus.io/path': '/metrics' });
    }
    // the shard's Service has its port, and the NetworkPolicy opens it as it opens vttablet's web port
    expect(findObject(objects, 'Service', 'vttablet-test-keyspace-0-test').spec.ports).toContainEqual({ name: 'metrics', port: 9104, targetPort: 9104 });
    const policy = findObject(objects, 'NetworkPolicy', 'vttablet-test-keyspace-0-test');
    expect(policy.spec.ingress).toContainEqual({ ports: [{ protocol: 'TCP', port: 15002 }, { protocol: 'TCP', port: 9104 }] });
    // the Vitess command lines are still those of the release, and the objects valid
    expect(checkInvocations(vitessInvocations(objects), reference)).toEqual([]);
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(objects, version)).toEqual([]);
    }
  });

  test('takes its image, port, resources, collectors, user and a password from a Secret', () => {
    // WHEN
    const objects = shard({
      release: VitessRelease.V22_0,
      mysqldExporter: {
        image: 'registry.example.internal:5000/mirror/mysqld-exporter:v0.20.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
        port: 9200,
        resources: { requests: { cpu: k8s.Quantity.fromString('20m'), memory: k8s.Quantity.fromString('64Mi') } },
        collectors: { 'info_schema.processlist': true, '--collect.slave_status': false, 'collect.info_schema.tables.databases': 'sys,_vt', 'info_schema.processlist.min_time': 2 },
        username: 'exporter',
        passwordSecret: { secretName: 'mysql-exporter', key: 'password' },
      },
    });
    // THEN
    const exporter = container(tablet(objects, 100), 'mysqld-exporter');
    expect(exporter.image).toBe('registry.example.internal:5000/mirror/mysqld-exporter:v0.20.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
    expect(exporter.args).toEqual([
      '--mysqld.address=unix:///vt/vtdataroot/vt_0000000100/mysql.sock',
      '--mysqld.username=exporter',
      '--config.my-cnf=',
      '--web.listen-address=:9200',
      '--web.telemetry-path=/metrics',
      '--collect.info_schema.processlist',
      '--no-collect.slave_status',
      '--collect.info_schema.tables.databases=sys,_vt',
      '--collect.info_schema.processlist.min_time=2',
    ]);
    // the password only by reference: no value in the manifest, nothing on the command line
    expect(exporter.env).toEqual([{ name: 'MYSQLD_EXPORTER_PASSWORD', valueFrom: { secretKeyRef: { name: 'mysql-exporter', key: 'password' } } }]);
    expect(JSON.stringify(objects.filter((o) => o.kind === 'Secret'))).toBe('[]');
    expect(exporter.ports).toEqual([{ name: 'metrics', containerPort: 9200 }]);
    expect(exporter.readinessProbe.httpGet).toEqual({ path: '/', port: 9200 });
    expect(exporter.livenessProbe.httpGet).toEqual({ path: '/', port: 9200 });
    expect(exporter.resources).toEqual({ requests: { cpu: '20m', memory: '64Mi' } });
    expect(tablet(objects, 100).spec.template.metadata.annotations['prometheus.io/port']).toBe('9200');
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(objects, version)).toEqual([]);
    }
  });

  test("with scrapeAnnotations false the annotations keep naming vttablet's port, which podAnnotations may replace", () => {
    // WHEN
    const kept = shard({ mysqldExporter: { scrapeAnnotations: false } });
    const replaced = shard({ mysqldExporter: { scrapeAnnotations: false }, podAnnotations: { 'prometheus.io/port': '9104' } });
    // THEN
    expect(tablet(kept, 100).spec.template.metadata.annotations['prometheus.io/port']).toBe('15002');
    expect(container(tablet(kept, 100), 'mysqld-exporter').ports).toEqual([{ name: 'metrics', containerPort: 9104 }]);
    expect(tablet(replaced, 100).spec.template.metadata.annotations['prometheus.io/port']).toBe('9104');
  });

  test("podAnnotations merge with the exporter's scrape annotations: other keys and the same values pass", () => {
    // WHEN
    const objects = shard({ mysqldExporter: {}, podAnnotations: { 'sidecar.istio.io/inject': 'false', 'prometheus.io/scrape': 'true' } });
    // THEN
    expect(tablet(objects, 100).spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9104',
      'prometheus.io/path': '/metrics',
      'sidecar.istio.io/inject': 'false',
    });
  });

  test("fails on podAnnotations that would change the exporter's scrape annotations", () => {
    expect(build({ mysqldExporter: {}, podAnnotations: { 'prometheus.io/port': '15002' } })).toThrow(
      "TabletShard: 'podAnnotations.prometheus.io/port' is '15002', but the pods' annotation prometheus.io/port must be '9104', one of the scrape annotations of 'mysqldExporter' (with 'mysqldExporter.scrapeAnnotations' false they name vttablet's port, and 'podAnnotations' may replace them)",
    );
    expect(build({ mysqldExporter: {}, podAnnotations: { 'prometheus.io/scrape': 'false' } })).toThrow(
      /'podAnnotations.prometheus.io\/scrape' is 'false', but the pods' annotation prometheus.io\/scrape must be 'true'/,
    );
  });

  test('the exporter is a container of the library: extraEnv and extraVolumeMounts reach it, extraFlags do not', () => {
    // WHEN
    const objects = shard({
      release: VitessRelease.V22_0,
      mysqldExporter: {},
      extraEnv: [{ name: 'TZ', value: 'UTC' }],
      extraVolumes: [{ name: 'ca', configMap: { name: 'corp-ca' } }],
      extraVolumeMounts: [{ name: 'ca', mountPath: '/etc/corp-ca', readOnly: true }],
      extraFlags: { vttablet: { 'queryserver-config-pool-size': 32 } },
    });
    // THEN
    const exporter = container(tablet(objects, 100), 'mysqld-exporter');
    expect(exporter.env).toEqual([{ name: 'TZ', value: 'UTC' }]);
    expect(exporter.volumeMounts).toEqual([
      { name: 'vtdataroot', mountPath: '/vt/vtdataroot', readOnly: true },
      { name: 'ca', mountPath: '/etc/corp-ca', readOnly: true },
    ]);
    expect(exporter.args.some((a: string) => a.includes('queryserver'))).toBe(false);
    expect(container(tablet(objects, 100), 'vttablet').args).toContain('--queryserver-config-pool-size=32');
  });

  test('fails on a port that is out of range, below 1024 or not whole', () => {
    for (const port of [80, 0, 70000, 9104.5]) {
      expect(build({ mysqldExporter: { port } })).toThrow(
        `TabletShard: 'mysqldExporter.port' must be a whole number from 1024 to 65535 (the exporter runs as a user without capabilities, which cannot bind a lower port), got ${port}`,
      );
    }
  });

  test("fails on a port of the tablet's containers or of a sidecar", () => {
    expect(build({ mysqldExporter: { port: 15002 } })).toThrow("TabletShard: 'mysqldExporter.port' 15002 is already vttablet's web port in the tablet pods; choose another");
    expect(build({ mysqldExporter: { port: 16002 } })).toThrow("TabletShard: 'mysqldExporter.port' 16002 is already vttablet's gRPC port in the tablet pods; choose another");
    expect(build({ mysqldExporter: { port: 3306 } })).toThrow("TabletShard: 'mysqldExporter.port' 3306 is already mysqld's MySQL port in the tablet pods; choose another");
    expect(build({ mysqldExporter: {}, sidecars: [{ name: 'agent', image: 'example/agent:1.0', ports: [{ containerPort: 9104 }] }] })).toThrow(
      "TabletShard: 'mysqldExporter.port' 9104 is already a port of the sidecar 'agent' in the tablet pods; choose another",
    );
  });

  test('fails on an image that is not a reference pinned by a tag or a digest', () => {
    for (const image of ['prom/mysqld-exporter', 'prom/Mysqld-exporter:v0.19.0', 'prom/mysqld exporter:v0.19.0', 'prom/mysqld-exporter:', 'prom/mysqld-exporter:v0.19.0@sha256:abc', '', 'prom//mysqld-exporter:v0.19.0']) {
      expect(build({ mysqldExporter: { image } })).toThrow(
        `TabletShard: 'mysqldExporter.image' must be an image reference pinned by a tag or a digest, such as prom/mysqld-exporter:v0.19.0 (registry and lowercase path, then ':<tag>' or '@sha256:<hex>'), got '${image}'`,
      );
    }
  });

  test('fails on an exporter release that cannot connect to a socket given by --mysqld.address', () => {
    expect(build({ mysqldExporter: { image: 'prom/mysqld-exporter:v0.18.0' } })).toThrow(
      "TabletShard: 'mysqldExporter.image' 'prom/mysqld-exporter:v0.18.0' is an exporter release before v0.19.0, which cannot connect to mysqld's socket with --mysqld.address=unix://; use v0.19.0 or later",
    );
    expect(build({ mysqldExporter: { image: 'quay.io/prometheus/mysqld-exporter:v0.15.1' } })).toThrow(/is an exporter release before v0\.19\.0/);
  });

  test('fails on a collector flag that the default image does not have, or a value of the wrong kind', () => {
    expect(build({ mysqldExporter: { collectors: { 'info_schema.processlst': true } } })).toThrow(
      "TabletShard: 'mysqldExporter.collectors.info_schema.processlst' is not a collector flag of prom/mysqld-exporter:v0.19.0; the closest are info_schema.processlist",
    );
    expect(build({ mysqldExporter: { collectors: { 'info_schema.processlist': 'yes' } } })).toThrow(
      "TabletShard: 'mysqldExporter.collectors.info_schema.processlist' turns a collector on or off and takes true or false, got \"yes\"",
    );
    expect(build({ mysqldExporter: { collectors: { 'info_schema.tables.databases': true } } })).toThrow(
      "TabletShard: 'mysqldExporter.collectors.info_schema.tables.databases' takes a value (a string or a number), got true",
    );
    expect(build({ mysqldExporter: { collectors: { 'Info Schema': true } } })).toThrow(
      "TabletShard: 'mysqldExporter.collectors' has the name 'Info Schema'; a collector flag name is lowercase words of letters, digits and '_' joined by '.', such as 'info_schema.processlist'",
    );
    expect(build({ mysqldExporter: { collectors: { 'heartbeat.database': 'a\nb' } } })).toThrow(
      "TabletShard: 'mysqldExporter.collectors.heartbeat.database' must be one line, got \"a\\nb\"",
    );
    // Another image's flags are not known: only the form is checked.
    const objects = shard({ mysqldExporter: { image: 'prom/mysqld-exporter:v0.20.0', collectors: { 'some_new.collector': true } } });
    expect(container(tablet(objects, 100), 'mysqld-exporter').args).toContain('--collect.some_new.collector');
  });

  test('fails on a bad user, password Secret or resources', () => {
    expect(build({ mysqldExporter: { username: 'a$b' } })).toThrow(
      "TabletShard: 'mysqldExporter.username' must be a MySQL user name of 1 to 32 letters, digits, '_', '.' and '-' (not starting with '.' or '-'), got 'a$b'",
    );
    expect(build({ mysqldExporter: { username: 'x'.repeat(33) } })).toThrow(/'mysqldExporter.username' must be a MySQL user name/);
    expect(build({ mysqldExporter: { passwordSecret: { secretName: 'Bad_Name', key: 'password' } } })).toThrow(/TabletShard: 'mysqldExporter.passwordSecret.secretName'.*'Bad_Name'/);
    expect(build({ mysqldExporter: { passwordSecret: { secretName: 'ok', key: 'a/b' } } })).toThrow(/TabletShard: 'mysqldExporter.passwordSecret.key'.*'a\/b'/);
    expect(build({ mysqldExporter: { resources: { requests: { memory: k8s.Quantity.fromString('lots') } } } })).toThrow(
      "TabletShard: 'mysqldExporter.resources.requests.memory' must be a Kubernetes quantity such as '250m', '2', '512Mi' or '10Gi', got 'lots'",
    );
  });
});

describe("the checks of Vitess command lines leave the exporter's flags alone", () => {
  const objects = shard({
    release: VitessRelease.V22_0,
    mysqldExporter: { collectors: { 'info_schema.processlist': true, 'info_schema.tables.databases': 'sys,_vt' } },
  });
  const sts = tablet(objects, 100);

  test("the tests' reference check finds only vttablet and mysqlctld in the pod, and no problem", () => {
    // WHEN
    const runs = vitessInvocations([sts]);
    // THEN
    expect(runs.map((r) => `${r.where}: ${r.binary}`)).toEqual(['vttablet: vttablet', 'mysql: mysqlctld']);
    expect(checkInvocations(runs, 'modern')).toEqual([]);
    // ... and would have reported the exporter's flags as unknown, had they been a Vitess binary's
    const asVitess = JSON.parse(JSON.stringify(sts));
    container(asVitess, 'mysqld-exporter').command = ['/vt/bin/vttablet'];
    expect(checkInvocations(vitessInvocations([asVitess]), 'modern')).toContain(
      "StatefulSet/vttablet-100 mysqld-exporter: vttablet: unknown vttablet flag '--mysqld.address=unix:///vt/vtdataroot/vt_0000000100/mysql.sock'",
    );
  });

  test('the validation plugin reports no problem, also for an exporter image mirrored under a vitess/ path', () => {
    // GIVEN the same StatefulSet with the exporter's image mirrored as <registry>/vitess/mysqld-exporter
    const mirrored = JSON.parse(JSON.stringify(sts));
    container(mirrored, 'mysqld-exporter').image = 'registry.example.internal/vitess/mysqld-exporter:v0.19.0';
    // THEN
    expect(checkObject(sts, 'tablets.k8s.yaml')).toEqual([]);
    expect(checkObject(mirrored, 'tablets.k8s.yaml')).toEqual([]);
    // ... and it would have reported the flags of a Vitess binary run in that container
    const asVitess = JSON.parse(JSON.stringify(sts));
    container(asVitess, 'mysqld-exporter').command = ['/vt/bin/vttablet'];
    container(asVitess, 'mysqld-exporter').image = 'vitess/lite:v22.0.3';
    expect(checkObject(asVitess, 'tablets.k8s.yaml').map((p) => p.rule)).toContain('unknown flag --mysqld.address for vttablet (Vitess v22.0.3)');
    // ... and an unknown Vitess release where the container runs a Vitess binary
    container(mirrored, 'mysqld-exporter').command = ['/vt/bin/vttablet'];
    expect(checkObject(mirrored, 'tablets.k8s.yaml').map((p) => p.rule)).toEqual(['no reference data for Vitess image registry.example.internal/vitess/mysqld-exporter:v0.19.0']);
  });
});

describe('VitessCluster tablet pools with mysqldExporter', () => {
  function props(pools: readonly TabletPoolSpec[]): VitessClusterProps {
    return {
      release: VitessRelease.V22_0,
      globalTopology: GlobalTopology.managed(),
      cells: [{ name: 'zone1' }],
      keyspaces: [{ name: 'commerce', partitionings: [Partitioning.equal(1)], tabletPools: pools }],
    };
  }
  function cluster(p: VitessClusterProps): any[] {
    const app = new App({ outdir: path.join(os.tmpdir(), 'cdk8s-vitess-test-exporter-never-written') });
    new VitessCluster(app, 'Cluster', p);
    return app.charts.flatMap((chart) => chart.toJson());
  }

  test("a pool's exporter runs in every tablet of the cell's shards", () => {
    // WHEN
    const objects = cluster(
      props([
        { cell: 'zone1', type: TabletPoolType.REPLICA, replicas: 2, mysqldExporter: { port: 9105 } },
        { cell: 'zone1', type: TabletPoolType.RDONLY, replicas: 1, mysqldExporter: { port: 9105 } },
      ]),
    );
    // THEN
    const tablets = objects.filter((o) => o.kind === 'StatefulSet' && o.metadata.name.startsWith('vttablet-'));
    expect(tablets).toHaveLength(3);
    for (const sts of tablets) {
      const uid = Number(sts.metadata.name.slice('vttablet-'.length));
      expect(container(sts, 'mysqld-exporter').args.slice(0, 4)).toEqual([
        `--mysqld.address=unix:///vt/vtdataroot/vt_${String(uid).padStart(10, '0')}/mysql.sock`,
        '--mysqld.username=vt_monitoring',
        '--config.my-cnf=',
        '--web.listen-address=:9105',
      ]);
      expect(sts.spec.template.metadata.annotations['prometheus.io/port']).toBe('9105');
    }
    expect(checkInvocations(vitessInvocations(objects), 'modern')).toEqual([]);
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(objects, version)).toEqual([]);
    }
  });

  test("fails on pools of a cell that disagree on the exporter, and on a pool's bad exporter, naming the pool", () => {
    expect(() =>
      cluster(props([
        { cell: 'zone1', type: TabletPoolType.REPLICA, replicas: 2, mysqldExporter: {} },
        { cell: 'zone1', type: TabletPoolType.RDONLY, replicas: 1 },
      ])),
    ).toThrow(
      "VitessCluster: 'keyspaces[0].tabletPools' of cell 'zone1' differ in storage, resources, image, mysqldExporter or extensions between the replica and rdonly pools; they must agree",
    );
    expect(() => cluster(props([{ cell: 'zone1', type: TabletPoolType.REPLICA, replicas: 2, mysqldExporter: { port: 3306 } }]))).toThrow(
      "VitessCluster: 'keyspaces[0].tabletPools[0]': TabletShard: 'mysqldExporter.port' 3306 is already mysqld's MySQL port in the tablet pods; choose another",
    );
  });
});
