// Backups in object stores (S3, Cloud Storage, Azure Blob): the flags of each release, the Secret
// volumes and environment, the checks of every prop, and a whole VitessCluster with each storage on
// each release (vtctld, every tablet pool, the backup Jobs), checked against the Kubernetes schemas
// and the Vitess reference data. test/backup-storage.real.test.ts runs the S3 flags and environment
// with the real vtctld.
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import {
  BackupStorage,
  BackupStorageImplementation,
  CellTopology,
  FlagStyle,
  GlobalTopology,
  JobCondition,
  Partitioning,
  S3ServerSideEncryption,
  TabletPoolType,
  VitessCluster,
  VitessClusterProps,
  VitessRelease,
  Vtctld,
  TopologyServer,
} from '../lib';
import { commandChecks } from '../lib/jobs/job-condition';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { ReferenceName, checkInvocations, vitessInvocations } from './util/vitess-reference';
import { baseName, container, findObject, testChart } from './util/synth';

/** What stands for a credential in a user's Secret: the library never sees it, so no manifest may hold it. */
const SECRET_VALUE = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

const S3 = (): BackupStorage =>
  BackupStorage.s3({
    bucket: 'acme-vitess-backups',
    region: 'eu-west-1',
    keyPrefix: 'prod/vitess',
    serverSideEncryption: S3ServerSideEncryption.KMS,
    credentialsSecret: { secretName: 'vitess-backup-s3' },
  });

describe('BackupStorage.s3', () => {
  const minio = BackupStorage.s3({
    bucket: 'vitess',
    region: 'us-east-1',
    endpoint: 'http://minio.storage.svc:9000',
    forcePathStyle: true,
    keyPrefix: 'cluster1',
    serverSideEncryption: S3ServerSideEncryption.AES256,
    credentialsSecret: { secretName: 'minio-creds', accessKeyIdKey: 'accesskey', secretAccessKeyKey: 'secretkey' },
  });

  test.each([
    ['v9.0.0', VitessRelease.V9_0, '-', '_'],
    ['v22.0.3', VitessRelease.V22_0, '--', '_'],
    ['v24.0.4', VitessRelease.V24_0, '--', '-'],
  ])('the flags of %s', (_version, release, dashes, sep) => {
    const f = (name: string) => `${dashes}${name.replace(/_/g, sep)}`;
    expect(minio.flags(release)).toEqual([
      `${f('backup_storage_implementation')}=s3`,
      `${f('s3_backup_storage_bucket')}=vitess`,
      `${f('s3_backup_aws_region')}=us-east-1`,
      `${f('s3_backup_aws_endpoint')}=http://minio.storage.svc:9000`,
      f('s3_backup_force_path_style'),
      `${f('s3_backup_storage_root')}=cluster1`,
      `${f('s3_backup_server_side_encryption')}=AES256`,
    ]);
  });

  test('keys from the Secret by reference, as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; no volume', () => {
    expect(minio.implementation).toBe(BackupStorageImplementation.S3);
    expect(minio.env).toEqual([
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'minio-creds', key: 'accesskey' } } },
      { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'minio-creds', key: 'secretkey' } } },
    ]);
    expect(minio.volumes).toEqual([]);
    expect(minio.volumeMounts).toEqual([]);
    expect(minio.volume).toBeUndefined();
    expect(minio.volumeMount).toBeUndefined();
    expect(minio.mountPath).toBeUndefined();
  });

  test('the key names default to the variable names', () => {
    expect(S3().env.map((e) => e.valueFrom?.secretKeyRef)).toEqual([
      { name: 'vitess-backup-s3', key: 'AWS_ACCESS_KEY_ID' },
      { name: 'vitess-backup-s3', key: 'AWS_SECRET_ACCESS_KEY' },
    ]);
    expect(S3().flags(VitessRelease.V22_0)).toEqual([
      '--backup_storage_implementation=s3',
      '--s3_backup_storage_bucket=acme-vitess-backups',
      '--s3_backup_aws_region=eu-west-1',
      '--s3_backup_storage_root=prod/vitess',
      '--s3_backup_server_side_encryption=aws:kms',
    ]);
  });

  test('a shared credentials file: the Secret key mounted read-only, AWS_SHARED_CREDENTIALS_FILE names it', () => {
    const storage = BackupStorage.s3({ bucket: 'b-1', region: 'us-east-1', credentialsSecret: { secretName: 'aws', sharedCredentialsFileKey: 'credentials.ini' } });
    expect(storage.volumes).toEqual([{ name: 'backup-s3-credentials', secret: { secretName: 'aws', items: [{ key: 'credentials.ini', path: 'credentials' }] } }]);
    expect(storage.volumeMounts).toEqual([{ name: 'backup-s3-credentials', mountPath: '/vt/secrets/backup-s3-credentials', readOnly: true }]);
    expect(storage.env).toEqual([{ name: 'AWS_SHARED_CREDENTIALS_FILE', value: '/vt/secrets/backup-s3-credentials/credentials' }]);
  });

  test('without a Secret, the pods’ own identity: no environment, no volume', () => {
    const storage = BackupStorage.s3({ bucket: 'b-1', region: 'us-gov-west-1' });
    expect([storage.env, storage.volumes, storage.volumeMounts]).toEqual([[], [], []]);
    expect(storage.flags(VitessRelease.V24_0)).toEqual(['--backup-storage-implementation=s3', '--s3-backup-storage-bucket=b-1', '--s3-backup-aws-region=us-gov-west-1']);
  });

  test('an SSE-C key from a Secret volume, named by sse_c:<file>', () => {
    const storage = BackupStorage.s3({
      bucket: 'b-1',
      region: 'us-east-1',
      serverSideEncryption: S3ServerSideEncryption.customerKey({ secretName: 'backup-key', key: 'sse-c.key' }),
    });
    expect(storage.volumes).toEqual([{ name: 'backup-s3-sse-c-key', secret: { secretName: 'backup-key', items: [{ key: 'sse-c.key', path: 'key' }] } }]);
    expect(storage.volumeMounts).toEqual([{ name: 'backup-s3-sse-c-key', mountPath: '/vt/secrets/backup-s3-sse-c-key', readOnly: true }]);
    expect(storage.flags(VitessRelease.V9_0)).toContain('-s3_backup_server_side_encryption=sse_c:/vt/secrets/backup-s3-sse-c-key/key');
    expect(storage.env).toEqual([]);
  });

  test.each([
    ['ab', "it must have 3 to 63 characters, got 'ab'"],
    ['a'.repeat(64), 'it must have 3 to 63 characters'],
    ['My-Bucket', "it must be lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, got 'My-Bucket'"],
    ['bucket-', "starting and ending with a letter or digit, got 'bucket-'"],
    ['my_bucket', "got 'my_bucket'"],
    ['my..bucket', "it must not contain '..', got 'my..bucket'"],
    ['192.168.5.4', "it must not be an IP address, got '192.168.5.4'"],
    ['xn--bucket', "it must not start with 'xn--', 'sthree-' or 'amzn-s3-demo-', got 'xn--bucket'"],
    ['sthree-bucket', "got 'sthree-bucket'"],
    ['bucket-s3alias', "it must not end with '-s3alias', '--ol-s3', '.mrap', '--x-s3' or '--table-s3', got 'bucket-s3alias'"],
    ['bucket--ol-s3', "got 'bucket--ol-s3'"],
  ])('fails for the bucket name %s', (bucket, message) => {
    expect(() => BackupStorage.s3({ bucket, region: 'us-east-1' })).toThrow(`BackupStorage.s3: 'bucket' is not a valid S3 bucket name: `);
    expect(() => BackupStorage.s3({ bucket, region: 'us-east-1' })).toThrow(message);
  });

  test.each(['useast1', 'us-east', 'US-EAST-1', 'eu-west-1 ', ''])('fails for the region %p', (region) => {
    expect(() => BackupStorage.s3({ bucket: 'b-1', region })).toThrow(`BackupStorage.s3: 'region' must be an AWS region name such as 'us-east-1', got '${region}'`);
  });

  test('with an endpoint, a store’s own region name; still not any text', () => {
    expect(BackupStorage.s3({ bucket: 'b-1', region: 'auto', endpoint: 'https://r2.example.internal' }).flags(VitessRelease.V22_0)).toContain('--s3_backup_aws_region=auto');
    expect(() => BackupStorage.s3({ bucket: 'b-1', region: 'Auto Region', endpoint: 'https://r2.example.internal' })).toThrow(
      "BackupStorage.s3: 'region' must be an AWS region name such as 'us-east-1' (or, with an 'endpoint', a name of lowercase letters, digits and '-'), got 'Auto Region'",
    );
  });

  test.each([
    'minio:9000',
    'ftp://minio:9000',
    'http://',
    'https://minio:9000/path',
    'https://minio:9000/',
    'https://user:pass@minio:9000',
    'https://minio:9000?x=1',
    'https://mi nio:9000',
    'http://minio:99999',
  ])('fails for the endpoint %p', (endpoint) => {
    expect(() => BackupStorage.s3({ bucket: 'b-1', region: 'us-east-1', endpoint })).toThrow(
      `BackupStorage.s3: 'endpoint' must be an http or https URL of a host and an optional port, without a path, e.g. 'https://s3.storage.internal:9000', got '${endpoint}'`,
    );
  });

  test.each(['/prod', 'prod/', 'a//b', 'with space', ''])('fails for the key prefix %p', (keyPrefix) => {
    expect(() => BackupStorage.s3({ bucket: 'b-1', region: 'us-east-1', keyPrefix })).toThrow(
      `BackupStorage.s3: 'keyPrefix' must be 1 to 256 characters without whitespace, without a leading or trailing '/' and without '//' (Vitess adds the '/' after it), got '${keyPrefix}'`,
    );
  });

  test('fails for a credentials Secret whose name is not a DNS subdomain', () => {
    expect(() => BackupStorage.s3({ bucket: 'b-1', region: 'us-east-1', credentialsSecret: { secretName: 'S3_Creds' } })).toThrow(
      "BackupStorage.s3: 'credentialsSecret.secretName' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters), got 'S3_Creds'",
    );
  });

  test.each([
    [{ accessKeyIdKey: '' }, 'accessKeyIdKey', ''],
    [{ secretAccessKeyKey: 'key/with/slash' }, 'secretAccessKeyKey', 'key/with/slash'],
    [{ secretAccessKeyKey: '..hidden' }, 'secretAccessKeyKey', '..hidden'],
    [{ sharedCredentialsFileKey: '' }, 'sharedCredentialsFileKey', ''],
  ])('fails for a credentials Secret key %p', (keys, prop, key) => {
    expect(() => BackupStorage.s3({ bucket: 'b-1', region: 'us-east-1', credentialsSecret: { secretName: 'aws', ...keys } })).toThrow(
      `BackupStorage.s3: 'credentialsSecret.${prop}' must be a Secret key (1 to 253 letters, digits, '-', '_' and '.', not '.' and not starting with '..'), got '${key}'`,
    );
  });

  test('fails for environment keys and a shared credentials file at once', () => {
    expect(() =>
      BackupStorage.s3({ bucket: 'b-1', region: 'us-east-1', credentialsSecret: { secretName: 'aws', accessKeyIdKey: 'id', sharedCredentialsFileKey: 'credentials' } }),
    ).toThrow("BackupStorage.s3: 'credentialsSecret.accessKeyIdKey' and 'credentialsSecret.sharedCredentialsFileKey' exclude each other");
  });

  test('fails for an SSE-C key that is missing, or not a Secret key; and for an encryption given as text', () => {
    expect(() => S3ServerSideEncryption.customerKey({ secretName: 'key', key: undefined as unknown as string })).toThrow(
      "BackupStorage.s3: 'serverSideEncryption.customerKey.key' must be a Secret key (1 to 253 letters, digits, '-', '_' and '.', not '.' and not starting with '..'), got 'undefined'",
    );
    expect(() => S3ServerSideEncryption.customerKey({ secretName: 'Key', key: 'k' })).toThrow("'serverSideEncryption.customerKey.secretName' must be a DNS-1123 subdomain");
    expect(() => BackupStorage.s3({ bucket: 'b-1', region: 'us-east-1', serverSideEncryption: 'sse_c:/etc/key' as unknown as S3ServerSideEncryption })).toThrow(
      `BackupStorage.s3: 'serverSideEncryption' must be S3ServerSideEncryption.AES256, .KMS or .customerKey(...), got "sse_c:/etc/key"`,
    );
  });
});

describe('BackupStorage.gcs', () => {
  const gcs = BackupStorage.gcs({ bucket: 'acme_vitess.backups', root: 'prod', credentialsSecret: { secretName: 'gcs-key', key: 'key.json' } });

  test.each([
    ['v9.0.0', VitessRelease.V9_0, ['-backup_storage_implementation=gcs', '-gcs_backup_storage_bucket=acme_vitess.backups', '-gcs_backup_storage_root=prod']],
    ['v22.0.3', VitessRelease.V22_0, ['--backup_storage_implementation=gcs', '--gcs_backup_storage_bucket=acme_vitess.backups', '--gcs_backup_storage_root=prod']],
    ['v24.0.4', VitessRelease.V24_0, ['--backup-storage-implementation=gcs', '--gcs-backup-storage-bucket=acme_vitess.backups', '--gcs-backup-storage-root=prod']],
  ])('the flags of %s', (_version, release, flags) => {
    expect(gcs.flags(release)).toEqual(flags);
  });

  test('the key file from a Secret volume, named by GOOGLE_APPLICATION_CREDENTIALS', () => {
    expect(gcs.volumes).toEqual([{ name: 'backup-gcs-credentials', secret: { secretName: 'gcs-key', items: [{ key: 'key.json', path: 'key.json' }] } }]);
    expect(gcs.volumeMounts).toEqual([{ name: 'backup-gcs-credentials', mountPath: '/vt/secrets/backup-gcs-credentials', readOnly: true }]);
    expect(gcs.env).toEqual([{ name: 'GOOGLE_APPLICATION_CREDENTIALS', value: '/vt/secrets/backup-gcs-credentials/key.json' }]);
    const own = BackupStorage.gcs({ bucket: 'acme-vitess' });
    expect([own.env, own.volumes, own.flags(VitessRelease.V22_0)]).toEqual([[], [], ['--backup_storage_implementation=gcs', '--gcs_backup_storage_bucket=acme-vitess']]);
  });

  test.each([
    ['ab', 'it must have 3 to 63 characters (up to 222 with dots)'],
    ['a'.repeat(64), 'it must have 3 to 63 characters (up to 222 with dots)'],
    ['Acme', "it must be lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit"],
    ['-acme', "it must be lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit"],
    ['acme..backups', 'it must have dot-separated parts of 1 to 63 characters'],
    [`${'a'.repeat(64)}.com`, 'it must have dot-separated parts of 1 to 63 characters'],
    ['10.0.0.1', 'it must not be an IP address'],
    ['google-backups', "it must not start with 'goog' or contain 'google'"],
    ['acme-g00gle', "it must not start with 'goog' or contain 'google'"],
  ])('fails for the bucket name %s', (bucket, message) => {
    expect(() => BackupStorage.gcs({ bucket })).toThrow(`BackupStorage.gcs: 'bucket' is not a valid Cloud Storage bucket name: ${message}, got '${bucket}'`);
  });

  test('fails for a root with a leading slash, and for a credentials Secret without a valid name or key', () => {
    expect(() => BackupStorage.gcs({ bucket: 'acme', root: '/prod' })).toThrow("BackupStorage.gcs: 'root' must be 1 to 256 characters");
    expect(() => BackupStorage.gcs({ bucket: 'acme', credentialsSecret: { secretName: 'gcs key', key: 'key.json' } })).toThrow(
      "BackupStorage.gcs: 'credentialsSecret.secretName' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters), got 'gcs key'",
    );
    expect(() => BackupStorage.gcs({ bucket: 'acme', credentialsSecret: { secretName: 'gcs', key: '' } })).toThrow(
      "BackupStorage.gcs: 'credentialsSecret.key' must be a Secret key (1 to 253 letters, digits, '-', '_' and '.', not '.' and not starting with '..'), got ''",
    );
    expect(() => BackupStorage.gcs({ bucket: 'acme', credentialsSecret: { secretName: 'gcs' } as never })).toThrow("'credentialsSecret.key' must be a Secret key");
  });
});

describe('BackupStorage.azblob', () => {
  const azblob = BackupStorage.azblob({ account: 'acmebackups', container: 'vitess-prod', keyPrefix: 'cluster1', accountKeySecret: { secretName: 'azure', key: 'account-key' } });

  test.each([
    ['v9.0.0', VitessRelease.V9_0, '-', '_'],
    ['v22.0.3', VitessRelease.V22_0, '--', '_'],
    ['v24.0.4', VitessRelease.V24_0, '--', '-'],
  ])('the flags of %s: the account key as a file of a Secret volume', (_version, release, dashes, sep) => {
    const f = (name: string) => `${dashes}${name.replace(/_/g, sep)}`;
    expect(azblob.flags(release)).toEqual([
      `${f('backup_storage_implementation')}=azblob`,
      `${f('azblob_backup_account_name')}=acmebackups`,
      `${f('azblob_backup_account_key_file')}=/vt/secrets/backup-azblob-account-key/account-key`,
      `${f('azblob_backup_container_name')}=vitess-prod`,
      `${f('azblob_backup_storage_root')}=cluster1`,
    ]);
    expect(azblob.volumes).toEqual([{ name: 'backup-azblob-account-key', secret: { secretName: 'azure', items: [{ key: 'account-key', path: 'account-key' }] } }]);
    expect(azblob.volumeMounts).toEqual([{ name: 'backup-azblob-account-key', mountPath: '/vt/secrets/backup-azblob-account-key', readOnly: true }]);
    expect(azblob.env).toEqual([]);
  });

  test.each(['ab', 'a'.repeat(25), 'Acme', 'acme-backups'])('fails for the account %p', (account) => {
    expect(() => BackupStorage.azblob({ account, container: 'vitess', accountKeySecret: { secretName: 'azure', key: 'k' } })).toThrow(
      `BackupStorage.azblob: 'account' must be an Azure storage account name (3 to 24 lowercase letters and digits), got '${account}'`,
    );
  });

  test.each(['ab', 'a'.repeat(64), 'Vitess', 'vitess--prod', '-vitess', 'vitess-', 'vitess_prod'])('fails for the container %p', (container) => {
    expect(() => BackupStorage.azblob({ account: 'acme', container, accountKeySecret: { secretName: 'azure', key: 'k' } })).toThrow(
      `BackupStorage.azblob: 'container' must be an Azure container name (3 to 63 lowercase letters, digits and single '-', starting and ending with a letter or digit), got '${container}'`,
    );
  });

  test('fails without an account key Secret, or with one whose name or key is not valid; and for a bad key prefix', () => {
    expect(() => BackupStorage.azblob({ account: 'acme', container: 'vitess', accountKeySecret: undefined as never })).toThrow(
      "BackupStorage.azblob: 'accountKeySecret' must name the Secret key holding the storage account's key, got undefined",
    );
    expect(() => BackupStorage.azblob({ account: 'acme', container: 'vitess', accountKeySecret: { secretName: '-azure', key: 'k' } })).toThrow(
      "BackupStorage.azblob: 'accountKeySecret.secretName' must be a DNS-1123 subdomain",
    );
    expect(() => BackupStorage.azblob({ account: 'acme', container: 'vitess', accountKeySecret: { secretName: 'azure', key: 'a key' } })).toThrow(
      "BackupStorage.azblob: 'accountKeySecret.key' must be a Secret key (1 to 253 letters, digits, '-', '_' and '.', not '.' and not starting with '..'), got 'a key'",
    );
    expect(() => BackupStorage.azblob({ account: 'acme', container: 'vitess', keyPrefix: 'a/', accountKeySecret: { secretName: 'azure', key: 'k' } })).toThrow(
      "BackupStorage.azblob: 'keyPrefix' must be 1 to 256 characters",
    );
  });
});

describe('a component fails when its release lacks a flag the storage needs', () => {
  // A profile of v22.0.3 that spelled its flags as v24 does: v22's vtctld has none of those names.
  const dashed22 = new VitessRelease({
    version: 'v22.0.3',
    image: 'vitess/lite:v22.0.3',
    flagStyle: FlagStyle.PFLAG_DASHED,
    topoGlobalRoot: '/vitess/global',
    topoCellRootPrefix: '/vitess/',
    topoAddressScheme: false,
    primaryTypeName: 'primary',
    vtctlClient: VitessRelease.V22_0.vtctlClient,
    vtctlCommands: VitessRelease.V22_0.vtctlCommands,
    vtworkerCommands: [],
    v3ReshardingMode: false,
    tabletSemiSyncFlag: false,
    vtgateGatewayFlag: false,
  });

  test('Vtctld names the storage, the flag and the release', () => {
    const storage = BackupStorage.azblob({ account: 'acme', container: 'vitess', accountKeySecret: { secretName: 'azure', key: 'k' } });
    expect(() => new Vtctld(testChart(), 'Vtctld', { release: dashed22, globalTopology: TopologyServer.fromAddress('global', 'etcd:2379'), cell: 'zone1', backup: storage })).toThrow(
      'Vtctld: BackupStorage.azblob needs --backup-storage-implementation, which vtctld of Vitess v22.0.3 does not have',
    );
  });
});

/** Every chart's objects of a VitessCluster with `backup`, keyspaces with initial backups in every pool. */
function clusterWith(release: VitessRelease, backup: BackupStorage): { cluster: VitessCluster; all: any[]; init: any[] } {
  const app = new App({ outdir: path.join(os.tmpdir(), 'cdk8s-vitess-test-backup-never-written') });
  const twoCells = release.vtctlClient === VitessRelease.V22_0.vtctlClient;
  const props: VitessClusterProps = {
    release,
    globalTopology: GlobalTopology.managed(),
    cells: [{ name: 'zone1', topology: CellTopology.managed() }, ...(twoCells ? [{ name: 'zone2' }] : [])],
    backup,
    keyspaces: [
      {
        name: 'commerce',
        initialBackup: true,
        partitionings: [Partitioning.equal(1)],
        schema: { product: 'CREATE TABLE product (sku VARBINARY(128), PRIMARY KEY (sku))' },
        tabletPools: [
          { cell: 'zone1', type: TabletPoolType.REPLICA, replicas: 2 },
          { cell: 'zone1', type: TabletPoolType.RDONLY, replicas: 2 },
          ...(twoCells ? [{ cell: 'zone2', type: TabletPoolType.REPLICA, replicas: 1 }] : []),
        ],
      },
      {
        name: 'customer',
        initialBackup: true,
        partitionings: [Partitioning.equal(2)],
        tabletPools: [
          { cell: 'zone1', type: TabletPoolType.REPLICA, replicas: 2 },
          { cell: 'zone1', type: TabletPoolType.RDONLY, replicas: 1 },
          ...(twoCells ? [{ cell: 'zone2', type: TabletPoolType.REPLICA, replicas: 1 }, { cell: 'zone2', type: TabletPoolType.RDONLY, replicas: 1 }] : []),
        ],
      },
    ],
  };
  const cluster = new VitessCluster(app, 'Cluster', props);
  const files = new Map(app.charts.map((chart) => [chart.node.id, chart.toJson()]));
  return { cluster, all: [...files.values()].flat(), init: files.get('02-init')! };
}

const STORAGES: Array<[string, () => BackupStorage]> = [
  ['s3 with keys in the environment', S3],
  [
    's3 with a shared credentials file and an SSE-C key',
    () =>
      BackupStorage.s3({
        bucket: 'acme-vitess-backups',
        region: 'us-east-1',
        endpoint: 'https://s3.storage.internal:9000',
        forcePathStyle: true,
        serverSideEncryption: S3ServerSideEncryption.customerKey({ secretName: 'vitess-backup-sse', key: 'key' }),
        credentialsSecret: { secretName: 'vitess-backup-s3', sharedCredentialsFileKey: 'credentials' },
      }),
  ],
  ['gcs', () => BackupStorage.gcs({ bucket: 'acme-vitess-backups', root: 'prod', credentialsSecret: { secretName: 'vitess-backup-gcs', key: 'key.json' } })],
  ['azblob', () => BackupStorage.azblob({ account: 'acmebackups', container: 'vitess', keyPrefix: 'prod', accountKeySecret: { secretName: 'vitess-backup-azure', key: 'key' } })],
];

const RELEASES: Array<[VitessRelease, ReferenceName]> = [
  [VitessRelease.V9_0, 'legacy'],
  [VitessRelease.V22_0, 'modern'],
  [VitessRelease.V24_0, 'v24'],
];

const CASES = STORAGES.flatMap(([storageName, storage]) => RELEASES.map(([release, reference]) => [storageName, release.version, storage, release, reference] as const));

describe.each(CASES)('VitessCluster with %s on Vitess %s', (_storageName, _version, makeStorage, release, reference) => {
  const storage = makeStorage();
  const { cluster, all, init } = clusterWith(release, storage);
  const podSpec = (o: any) => o.spec.template.spec;
  const tabletSets = all.filter((o) => o.kind === 'StatefulSet' && o.metadata.labels?.component === 'vttablet');
  const jobs = all.filter((o) => o.kind === 'Job');
  const secretVolumes = storage.volumes.map((v) => v.name);

  test('vtctld has the storage’s flags, environment, mounts and volumes', () => {
    const vtctld = findObject(all, 'Deployment', 'vtctld');
    const c = container(vtctld, 'vtctld');
    const flags = storage.flags(release);
    expect(flags.length).toBeGreaterThan(1);
    expect(c.args).toEqual(expect.arrayContaining(flags));
    expect(c.env ?? []).toEqual(storage.env);
    expect(c.volumeMounts).toEqual(expect.arrayContaining(storage.volumeMounts as any[]));
    expect(podSpec(vtctld).volumes).toEqual(expect.arrayContaining(storage.volumes as any[]));
  });

  test('every vttablet of every pool has them too; mysqld gets no credentials', () => {
    const pools = new Set(tabletSets.map((s) => `${s.metadata.labels.keyspace}/${s.metadata.labels.shard}/${s.metadata.labels.cell}/${s.metadata.labels['tablet-type']}`));
    expect(tabletSets).toHaveLength(cluster.shards.flatMap((s) => s.tabletShards).flatMap((t) => t.tablets).length);
    // commerce: zone1 replica and rdonly (and zone2 replica); customer's two shards: zone1 replica and rdonly (and zone2's)
    expect(pools.size).toBe(release === VitessRelease.V9_0 ? 6 : 11);
    for (const sts of tabletSets) {
      const vttablet = container(sts, 'vttablet');
      expect(vttablet.args).toEqual(expect.arrayContaining([...storage.flags(release), release.flag('restore_from_backup')]));
      expect((vttablet.env ?? []).filter((e: any) => storage.env.some((s) => s.name === e.name))).toEqual(storage.env);
      expect(vttablet.volumeMounts).toEqual(expect.arrayContaining(storage.volumeMounts as any[]));
      expect(podSpec(sts).volumes).toEqual(expect.arrayContaining(storage.volumes as any[]));
      const mysql = container(sts, 'mysql');
      expect((mysql.volumeMounts ?? []).filter((m: any) => secretVolumes.includes(m.name))).toEqual([]);
      expect(mysql.env ?? []).toEqual([]);
    }
  });

  test('the backup Jobs ask vtctld for the backups: no storage flags, credentials, Secret volumes or MANIFEST look in any Job', () => {
    const backupJobs = init.filter((o) => o.kind === 'Job' && baseName(o).startsWith('vtctl-backup-'));
    expect(backupJobs).toHaveLength(3);
    const listing = release.vtctlClient === VitessRelease.V22_0.vtctlClient ? 'GetBackups' : 'ListBackups';
    for (const job of backupJobs) {
      const script = container(job, job.spec.template.spec.containers[0].name).command[2];
      expect(script).toMatch(new RegExp(`${listing} (commerce/0|customer/-80|customer/80-)`));
      expect(script).toContain('is listed');
      expect(script).not.toContain('MANIFEST');
    }
    for (const job of jobs) {
      const spec = podSpec(job);
      expect((spec.volumes ?? []).map((v: any) => v.name)).toEqual(['tmp']);
      expect(spec.containers.flatMap((c: any) => c.env ?? [])).toEqual([]);
      expect(JSON.stringify(spec)).not.toMatch(/backup_storage|backup-storage/);
    }
    const rebuild = container(findObject(init, 'Job', 'vtctl-rebuildvschemagraph'), 'vtctl').command[2];
    expect(rebuild).toContain('a backup of customer/80- is listed');
  });

  test('no credential in any argument, environment value or object: environment only by Secret reference', () => {
    const text = JSON.stringify(all);
    expect(text).not.toContain(SECRET_VALUE);
    expect(all.filter((o) => o.kind === 'Secret')).toEqual([]);
    const envs = all.flatMap((o) => (o.spec?.template?.spec?.containers ?? []).flatMap((c: any) => c.env ?? []));
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'VT_AZBLOB_ACCOUNT_KEY']) {
      for (const e of envs.filter((x: any) => x.name === name)) {
        expect(e.value).toBeUndefined();
        expect(Object.keys(e.valueFrom)).toEqual(['secretKeyRef']);
      }
    }
    // What is given by value is a path into a Secret volume, never a credential.
    for (const e of envs.filter((x: any) => x.value !== undefined && /^(AWS_|GOOGLE_)/.test(x.name))) {
      expect(e.value).toMatch(/^\/vt\/secrets\/backup-[a-z0-9-]+\/[a-z.-]+$/);
    }
    const args = all.flatMap((o) => (o.spec?.template?.spec?.containers ?? []).flatMap((c: any) => [...(c.command ?? []), ...(c.args ?? [])]));
    expect(args.filter((a: string) => /(key_file|key-file|server_side_encryption|server-side-encryption)=/.test(a) && !/=(aws:kms|AES256|sse_c:\/vt\/secrets\/.+|\/vt\/secrets\/.+)$/.test(a))).toEqual([]);
    if (storage.implementation === BackupStorageImplementation.S3 && storage.volumes.length === 0) {
      expect(envs.filter((e: any) => e.name.startsWith('AWS_')).map((e: any) => e.valueFrom.secretKeyRef.name)).not.toHaveLength(0);
    }
  });

  test(`every Vitess flag and command is known to Vitess ${release.version}`, () => {
    const invocations = vitessInvocations(all);
    expect(invocations.filter((i) => i.binary === 'vttablet')).toHaveLength(tabletSets.length);
    expect(checkInvocations(invocations, reference)).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(all, version)).toEqual([]);
  });
});

describe('JobCondition.backupListed and backupComplete', () => {
  const listed = JobCondition.backupListed('commerce', '-80');
  const matches = (release: VitessRelease, output: string): boolean => {
    const [check] = commandChecks(listed._render(release));
    return check.present.every((p) => spawnSync('grep', ['-Eq', p], { input: output }).status === 0);
  };

  test('vtctlclient ListBackups on v9, vtctldclient GetBackups later', () => {
    expect(commandChecks(listed._render(VitessRelease.V9_0)).map((c) => c.command)).toEqual([['ListBackups', 'commerce/-80']]);
    expect(commandChecks(listed._render(VitessRelease.V24_0)).map((c) => c.command)).toEqual([['GetBackups', 'commerce/-80']]);
  });

  test('holds for a listed backup name, not for an empty list', () => {
    expect(matches(VitessRelease.V22_0, '2026-01-31.235959.zone1-0000000101\n')).toBe(true);
    expect(matches(VitessRelease.V22_0, '\n')).toBe(false);
    expect(matches(VitessRelease.V9_0, 'E0131 error listing\n')).toBe(false);
  });

  test('fails for a bad keyspace or shard; backupComplete fails for an object store', () => {
    expect(() => JobCondition.backupListed('Commerce', '0')).toThrow("JobCondition.backupListed: 'keyspace' must start with a lowercase letter");
    expect(() => JobCondition.backupListed('commerce', '80-00')).toThrow("JobCondition.backupListed: 'shard' key range '80-00' must have its start below its end");
    expect(() => JobCondition.backupComplete('commerce', '0', S3())).toThrow(
      'JobCondition.backupComplete: BackupStorage.s3 keeps backups in an object store, where a Job cannot look for a MANIFEST; use JobCondition.backupListed, which asks vtctld',
    );
  });
});
