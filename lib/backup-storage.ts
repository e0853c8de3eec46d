import { k8s } from '../imports/k8s';
import type { SecretKeyRef } from './interfaces';
import { validateDataKey, validateSubdomainName } from './internal/names';
import { VitessRelease } from './release';

/** Where the backup volume is mounted unless told otherwise. */
const DEFAULT_BACKUP_MOUNT_PATH = '/vt/backups';

/** Where the Secrets of an object store are mounted: one folder per Secret volume below it. */
const SECRETS_DIR = '/vt/secrets';

/**
 * Options for an NFS backup volume.
 */
export interface NfsBackupOptions {
  /** The NFS server's host name or IP address. */
  readonly server: string;
  /** The exported path on the server; it must be writable by UID 999 (the `vitess` user). */
  readonly path: string;
  /**
   * Where the volume is mounted in vtctld and every tablet; also `-file_backup_storage_root`.
   * @default /vt/backups
   */
  readonly mountPath?: string;
}

/**
 * Options for a backup volume from an existing PersistentVolumeClaim.
 */
export interface ClaimBackupOptions {
  /** The name of a ReadWriteMany PersistentVolumeClaim in the same namespace. */
  readonly claimName: string;
  /**
   * Where the volume is mounted in vtctld and every tablet; also `-file_backup_storage_root`.
   * @default /vt/backups
   */
  readonly mountPath?: string;
}

/**
 * The Secret that holds the AWS credentials of {@link BackupStorage.s3}: either two keys that become
 * the environment variables `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (through
 * `valueFrom.secretKeyRef`, so no key is in a manifest), or, with `sharedCredentialsFileKey`, one
 * key holding an AWS shared credentials file (`[default]`, `aws_access_key_id = ...`,
 * `aws_secret_access_key = ...`), mounted read-only and named by `AWS_SHARED_CREDENTIALS_FILE`
 * (the vitess-operator's `s3.authSecret`).
 *
 * Vitess has no flag for S3 credentials in any of its releases (the `s3_backup_*` flags of
 * go/vt/mysqlctl/s3backupstorage/s3.go, lines 56-85 at v0.9.0, 102-113 at v0.22.4, 104-115 at
 * v0.24.4): its S3 client takes the AWS SDK's default credential chain, which reads both forms.
 * v9 uses AWS SDK for Go v1 (`session.NewSession()`, s3.go 417 at v0.9.0; aws-sdk-go v1.28.8
 * `aws/session/credentials.go` 17-47: environment keys first, then the shared credentials file of
 * `AWS_SHARED_CREDENTIALS_FILE`, `aws/session/env_config.go` 287-291 and `aws/session/session.go`
 * 388-398); v22 and v24 use AWS SDK for Go v2 (`config.LoadDefaultConfig`, s3.go 524 at v0.22.4,
 * 564 at v0.24.4; aws-sdk-go-v2/config v1.29.9 and v1.32.14 `resolve_credentials.go`
 * `resolveCredentialChain`, 102-136 and 103-137: environment keys, then the shared files, whose
 * credentials file path `AWS_SHARED_CREDENTIALS_FILE` sets, `env_config.go` 338 and 343).
 */
export interface S3CredentialsSecret {
  /** The name of the Secret, in the namespace the manifests are applied to. */
  readonly secretName: string;
  /**
   * The key holding the access key ID (`AWS_ACCESS_KEY_ID`). Not with `sharedCredentialsFileKey`.
   * @default 'AWS_ACCESS_KEY_ID'
   */
  readonly accessKeyIdKey?: string;
  /**
   * The key holding the secret access key (`AWS_SECRET_ACCESS_KEY`). Not with
   * `sharedCredentialsFileKey`.
   * @default 'AWS_SECRET_ACCESS_KEY'
   */
  readonly secretAccessKeyKey?: string;
  /**
   * The key holding an AWS shared credentials file: the Secret is mounted read-only at
   * `/vt/secrets/backup-s3-credentials` and `AWS_SHARED_CREDENTIALS_FILE` names the file, instead of
   * the two environment variables. The SDK reads its `[default]` profile.
   * @default - the credentials come from `accessKeyIdKey` and `secretAccessKeyKey`
   */
  readonly sharedCredentialsFileKey?: string;
}

/**
 * How S3 encrypts the backups' objects: `--s3_backup_server_side_encryption`, which Vitess passes to
 * S3 as the `x-amz-server-side-encryption` of each object, except a value `sse_c:<file>`, whose file
 * Vitess reads, base64-decodes (or takes as it is when it is not base64) and sends as the customer
 * key of every upload and download (go/vt/mysqlctl/s3backupstorage/s3.go lines 219-243 at v0.9.0,
 * 312-336 at v0.22.4, 353-377 at v0.24.4).
 */
export class S3ServerSideEncryption {
  /** S3-managed keys (SSE-S3, `AES256`). */
  public static readonly AES256 = new S3ServerSideEncryption('AES256');
  /** AWS KMS keys (SSE-KMS, `aws:kms`): the bucket's KMS key, or the account's `aws/s3` key. */
  public static readonly KMS = new S3ServerSideEncryption('aws:kms');

  /**
   * A key of your own (SSE-C): the Secret key holds the 256-bit key (base64 or raw), mounted
   * read-only at `/vt/secrets/backup-s3-sse-c-key` in vtctld and every tablet, and
   * `--s3_backup_server_side_encryption=sse_c:<that file>`. The key is never in a manifest. Keep
   * it: a backup cannot be read without it.
   */
  public static customerKey(secret: SecretKeyRef): S3ServerSideEncryption {
    validateSecretKeyRef('BackupStorage.s3', 'serverSideEncryption.customerKey', secret);
    return new S3ServerSideEncryption(undefined, secret);
  }

  /** `AES256` or `aws:kms`; undefined for a customer key. @internal */
  public readonly _algorithm: string | undefined;
  /** The Secret key of a customer key. @internal */
  public readonly _customerKey: SecretKeyRef | undefined;

  private constructor(algorithm: string | undefined, customerKey?: SecretKeyRef) {
    this._algorithm = algorithm;
    this._customerKey = customerKey;
  }
}

/**
 * Options for backups in Amazon S3 or an S3-compatible object store.
 */
export interface S3BackupOptions {
  /**
   * The bucket (AWS naming rules: 3 to 63 lowercase letters, digits, '.' and '-', starting and
   * ending with a letter or digit). `--s3_backup_storage_bucket`.
   */
  readonly bucket: string;
  /**
   * The bucket's region, e.g. `us-east-1`. `--s3_backup_aws_region`. With an `endpoint`, the name
   * the store expects (letters, digits and '-', e.g. `auto`).
   */
  readonly region: string;
  /**
   * The URL of an S3-compatible store instead of AWS's endpoint of the region, e.g.
   * `https://s3.storage.internal:9000` (http or https, a host and an optional port, nothing else).
   * `--s3_backup_aws_endpoint`. v22 and v24 take only a URL with a scheme (their SDK's endpoint
   * rules refuse anything else: aws-sdk-go-v2/service/s3 v1.78.2 `endpoints.go` 2166-2176 with
   * smithy-go v1.22.3 `endpoints/private/rulesfn/uri.go` 42-54; the same in s3 v1.99.0 5563-5568),
   * so a bare `host:port` is refused here for every release.
   * @default - AWS's endpoint of the region
   */
  readonly endpoint?: string;
  /**
   * Whether requests name the bucket in the path (`<endpoint>/<bucket>/<key>`) instead of the host
   * name (`<bucket>.<endpoint>`): most S3-compatible stores need it. `--s3_backup_force_path_style`.
   * @default false
   */
  readonly forcePathStyle?: boolean;
  /**
   * A prefix of every object key, e.g. `vitess/prod`: the backups of shard `ks/0` are then under
   * `vitess/prod/ks/0/`. Without leading or trailing '/'. `--s3_backup_storage_root`.
   * @default - none: keys start with the keyspace
   */
  readonly keyPrefix?: string;
  /**
   * Server-side encryption of the backups' objects.
   * @default - none asked for (the bucket's default encryption applies)
   */
  readonly serverSideEncryption?: S3ServerSideEncryption;
  /**
   * The Secret that holds the AWS credentials.
   * @default - no Secret: the pods' own identity, through the SDK's default chain (IRSA, whose
   * `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE` the EKS webhook adds to the pods, on the
   * namespace's `default` service account, which vtctld and the tablets run as; or the node's
   * instance profile)
   */
  readonly credentialsSecret?: S3CredentialsSecret;
}

/**
 * Options for backups in Google Cloud Storage.
 */
export interface GcsBackupOptions {
  /**
   * The bucket (3 to 63 lowercase letters, digits, '-', '_' and '.', up to 222 with dots; starting
   * and ending with a letter or digit). `--gcs_backup_storage_bucket`.
   */
  readonly bucket: string;
  /**
   * A prefix of every object name, without leading or trailing '/'. `--gcs_backup_storage_root`.
   * @default - none: names start with the keyspace
   */
  readonly root?: string;
  /**
   * The Secret key holding a service account key file (JSON), mounted read-only at
   * `/vt/secrets/backup-gcs-credentials` and named by `GOOGLE_APPLICATION_CREDENTIALS`, which
   * Vitess's GCS client reads first: it authenticates with `google.DefaultClient`
   * (go/vt/mysqlctl/gcsbackupstorage/gcs.go line 256 at v0.9.0, 261 at v0.22.4, 262 at v0.24.4),
   * which looks at that variable before anything else (golang.org/x/oauth2 `google/default.go`
   * lines 76-85 at v0.0.0-20190604053449-0f29369cfe45, 194-206 at v0.33.0, 231-243 at v0.36.0).
   * @default - no Secret: the pods' own identity (GKE Workload Identity on the namespace's `default`
   * service account, or the node's service account, from the metadata server)
   */
  readonly credentialsSecret?: SecretKeyRef;
}

/**
 * Options for backups in Azure Blob Storage.
 */
export interface AzblobBackupOptions {
  /** The storage account (3 to 24 lowercase letters and digits). `--azblob_backup_account_name`. */
  readonly account: string;
  /**
   * The container (3 to 63 lowercase letters, digits and single '-', starting and ending with a
   * letter or digit). `--azblob_backup_container_name`.
   */
  readonly container: string;
  /**
   * A prefix of every blob name, without leading or trailing '/'. `--azblob_backup_storage_root`.
   * @default - none: names start with the keyspace
   */
  readonly keyPrefix?: string;
  /**
   * The Secret key holding the storage account's access key, mounted read-only at
   * `/vt/secrets/backup-azblob-account-key` and named by `--azblob_backup_account_key_file`, which
   * Vitess reads as the key (go/vt/mysqlctl/azblobbackupstorage/azblob.go lines 66-89 at v0.9.0,
   * 125-144 at v0.22.4, 133-152 at v0.24.4). Vitess has no other way to authenticate to Azure than
   * an account key (the other is the environment variable `VT_AZBLOB_ACCOUNT_KEY` holding the key
   * itself, which this library does not set).
   */
  readonly accountKeySecret: SecretKeyRef;
}

/** Which Vitess backup storage implementation a {@link BackupStorage} is. */
export enum BackupStorageImplementation {
  /** A shared file volume (`file`). */
  FILE = 'file',
  /** Amazon S3 or an S3-compatible store (`s3`). */
  S3 = 's3',
  /** Google Cloud Storage (`gcs`). */
  GCS = 'gcs',
  /** Azure Blob Storage (`azblob`). */
  AZBLOB = 'azblob',
}

/** One flag of a storage, as a name and value that each release spells its own way. */
interface StorageFlag {
  readonly name: string;
  readonly value: string | true;
}

/** What a storage adds to the pods and binaries that use it. */
interface StorageParts {
  readonly implementation: BackupStorageImplementation;
  /** `BackupStorage.s3` etc., for messages. */
  readonly context: string;
  readonly flags: readonly StorageFlag[];
  readonly volumes: readonly k8s.Volume[];
  readonly volumeMounts: readonly k8s.VolumeMount[];
  readonly env: readonly k8s.EnvVar[];
  /** The shared file volume and where it is mounted (file storage only). */
  readonly file?: { readonly volume: k8s.Volume; readonly mountPath: string };
}

/**
 * Where Vitess keeps backups: a shared (ReadWriteMany) file volume (`nfs`, `persistentVolumeClaim`)
 * or an object store (`s3`, `gcs`, `azblob`). Every binary that uses it (vtctld, which lists and
 * removes backups, and every vttablet, which takes and restores them) gets the same flags,
 * `--backup_storage_implementation` and the implementation's own, and the same volumes, mounts and
 * environment: {@link flags}, {@link volumes}, {@link volumeMounts} and {@link env}. Credentials
 * come only from Secrets, by reference (`valueFrom.secretKeyRef` or a Secret volume): never in an
 * argument, an environment value or a manifest.
 */
export class BackupStorage {
  /**
   * Backups on an NFS export.
   */
  public static nfs(options: NfsBackupOptions): BackupStorage {
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(options.server) && !/^\[?[0-9a-fA-F:]+\]?$/.test(options.server)) {
      throw new Error(
        `BackupStorage.nfs: 'server' must be a host name or an IP address, got '${options.server}'`,
      );
    }
    if (!options.path.startsWith('/') || /\s/.test(options.path)) {
      throw new Error(`BackupStorage.nfs: 'path' must be an absolute path without spaces, got '${options.path}'`);
    }
    return BackupStorage.file(
      { name: 'backups', nfs: { server: options.server, path: options.path } },
      options.mountPath ?? DEFAULT_BACKUP_MOUNT_PATH,
      'BackupStorage.nfs',
    );
  }

  /**
   * Backups on an existing ReadWriteMany PersistentVolumeClaim (e.g. one bound to an NFS
   * PersistentVolume or a CSI file share).
   */
  public static persistentVolumeClaim(options: ClaimBackupOptions): BackupStorage {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(options.claimName) || options.claimName.length > 253) {
      throw new Error(
        `BackupStorage.persistentVolumeClaim: 'claimName' must be a DNS-1123 subdomain, got '${options.claimName}'`,
      );
    }
    return BackupStorage.file(
      { name: 'backups', persistentVolumeClaim: { claimName: options.claimName } },
      options.mountPath ?? DEFAULT_BACKUP_MOUNT_PATH,
      'BackupStorage.persistentVolumeClaim',
    );
  }

  /**
   * Backups in an S3 bucket (`--backup_storage_implementation s3`), on AWS or an S3-compatible
   * store (`endpoint`). Credentials come from `credentialsSecret`, or else from the pods' own
   * identity (IRSA, instance profile); the SSE-C key of `serverSideEncryption` from a Secret volume.
   */
  public static s3(options: S3BackupOptions): BackupStorage {
    const context = 'BackupStorage.s3';
    validateS3Bucket(context, options.bucket);
    if (options.endpoint !== undefined) {
      validateEndpoint(context, options.endpoint);
    }
    validateRegion(context, options.region, options.endpoint !== undefined);
    if (options.forcePathStyle !== undefined && typeof options.forcePathStyle !== 'boolean') {
      throw new Error(`${context}: 'forcePathStyle' must be true or false, got ${JSON.stringify(options.forcePathStyle)}`);
    }
    if (options.keyPrefix !== undefined) {
      validateKeyPrefix(context, 'keyPrefix', options.keyPrefix);
    }
    const sse = options.serverSideEncryption;
    if (sse !== undefined && !(sse instanceof S3ServerSideEncryption)) {
      throw new Error(
        `${context}: 'serverSideEncryption' must be S3ServerSideEncryption.AES256, .KMS or .customerKey(...), got ${JSON.stringify(sse)}`,
      );
    }
    const volumes: k8s.Volume[] = [];
    const volumeMounts: k8s.VolumeMount[] = [];
    const env: k8s.EnvVar[] = [];
    const credentials = options.credentialsSecret;
    if (credentials !== undefined) {
      validateSubdomainName(context, 'credentialsSecret.secretName', credentials.secretName);
      if (credentials.sharedCredentialsFileKey !== undefined) {
        for (const key of ['accessKeyIdKey', 'secretAccessKeyKey'] as const) {
          if (credentials[key] !== undefined) {
            throw new Error(
              `${context}: 'credentialsSecret.${key}' and 'credentialsSecret.sharedCredentialsFileKey' exclude each other ` +
                `(environment keys or a shared credentials file), got both`,
            );
          }
        }
        validateDataKey(context, 'credentialsSecret.sharedCredentialsFileKey', credentials.sharedCredentialsFileKey, 'Secret');
        const file = secretFile('backup-s3-credentials', credentials.secretName, credentials.sharedCredentialsFileKey, 'credentials');
        volumes.push(file.volume);
        volumeMounts.push(file.volumeMount);
        env.push({ name: 'AWS_SHARED_CREDENTIALS_FILE', value: file.path });
      } else {
        const idKey = credentials.accessKeyIdKey ?? 'AWS_ACCESS_KEY_ID';
        const secretKey = credentials.secretAccessKeyKey ?? 'AWS_SECRET_ACCESS_KEY';
        validateDataKey(context, 'credentialsSecret.accessKeyIdKey', idKey, 'Secret');
        validateDataKey(context, 'credentialsSecret.secretAccessKeyKey', secretKey, 'Secret');
        env.push(
          { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: credentials.secretName, key: idKey } } },
          { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: credentials.secretName, key: secretKey } } },
        );
      }
    }
    let sseValue: string | undefined = sse?._algorithm;
    if (sse?._customerKey !== undefined) {
      const file = secretFile('backup-s3-sse-c-key', sse._customerKey.secretName, sse._customerKey.key, 'key');
      volumes.push(file.volume);
      volumeMounts.push(file.volumeMount);
      sseValue = `sse_c:${file.path}`;
    }
    const flags: StorageFlag[] = [
      { name: 'backup_storage_implementation', value: BackupStorageImplementation.S3 },
      { name: 's3_backup_storage_bucket', value: options.bucket },
      { name: 's3_backup_aws_region', value: options.region },
      ...(options.endpoint !== undefined ? [{ name: 's3_backup_aws_endpoint', value: options.endpoint }] : []),
      ...(options.forcePathStyle ? [{ name: 's3_backup_force_path_style', value: true as const }] : []),
      ...(options.keyPrefix !== undefined ? [{ name: 's3_backup_storage_root', value: options.keyPrefix }] : []),
      ...(sseValue !== undefined ? [{ name: 's3_backup_server_side_encryption', value: sseValue }] : []),
    ];
    return new BackupStorage({ implementation: BackupStorageImplementation.S3, context, flags, volumes, volumeMounts, env });
  }

  /**
   * Backups in a Google Cloud Storage bucket (`--backup_storage_implementation gcs`). Credentials
   * come from a service account key in `credentialsSecret`, or else from the pods' own identity.
   */
  public static gcs(options: GcsBackupOptions): BackupStorage {
    const context = 'BackupStorage.gcs';
    validateGcsBucket(context, options.bucket);
    if (options.root !== undefined) {
      validateKeyPrefix(context, 'root', options.root);
    }
    const volumes: k8s.Volume[] = [];
    const volumeMounts: k8s.VolumeMount[] = [];
    const env: k8s.EnvVar[] = [];
    if (options.credentialsSecret !== undefined) {
      validateSecretKeyRef(context, 'credentialsSecret', options.credentialsSecret);
      const file = secretFile('backup-gcs-credentials', options.credentialsSecret.secretName, options.credentialsSecret.key, 'key.json');
      volumes.push(file.volume);
      volumeMounts.push(file.volumeMount);
      env.push({ name: 'GOOGLE_APPLICATION_CREDENTIALS', value: file.path });
    }
    const flags: StorageFlag[] = [
      { name: 'backup_storage_implementation', value: BackupStorageImplementation.GCS },
      { name: 'gcs_backup_storage_bucket', value: options.bucket },
      ...(options.root !== undefined ? [{ name: 'gcs_backup_storage_root', value: options.root }] : []),
    ];
    return new BackupStorage({ implementation: BackupStorageImplementation.GCS, context, flags, volumes, volumeMounts, env });
  }

  /**
   * Backups in an Azure Blob Storage container (`--backup_storage_implementation azblob`),
   * authenticated with the storage account's key from a Secret volume.
   */
  public static azblob(options: AzblobBackupOptions): BackupStorage {
    const context = 'BackupStorage.azblob';
    if (typeof options.account !== 'string' || !/^[a-z0-9]{3,24}$/.test(options.account)) {
      throw new Error(`${context}: 'account' must be an Azure storage account name (3 to 24 lowercase letters and digits), got '${options.account}'`);
    }
    if (typeof options.container !== 'string' || !/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(options.container)) {
      throw new Error(
        `${context}: 'container' must be an Azure container name (3 to 63 lowercase letters, digits and single '-', ` +
          `starting and ending with a letter or digit), got '${options.container}'`,
      );
    }
    if (options.keyPrefix !== undefined) {
      validateKeyPrefix(context, 'keyPrefix', options.keyPrefix);
    }
    if (options.accountKeySecret === undefined) {
      throw new Error(`${context}: 'accountKeySecret' must name the Secret key holding the storage account's key, got undefined`);
    }
    validateSecretKeyRef(context, 'accountKeySecret', options.accountKeySecret);
    const file = secretFile('backup-azblob-account-key', options.accountKeySecret.secretName, options.accountKeySecret.key, 'account-key');
    const flags: StorageFlag[] = [
      { name: 'backup_storage_implementation', value: BackupStorageImplementation.AZBLOB },
      { name: 'azblob_backup_account_name', value: options.account },
      { name: 'azblob_backup_account_key_file', value: file.path },
      { name: 'azblob_backup_container_name', value: options.container },
      ...(options.keyPrefix !== undefined ? [{ name: 'azblob_backup_storage_root', value: options.keyPrefix }] : []),
    ];
    return new BackupStorage({
      implementation: BackupStorageImplementation.AZBLOB,
      context,
      flags,
      volumes: [file.volume],
      volumeMounts: [file.volumeMount],
      env: [],
    });
  }

  private static file(volume: k8s.Volume, mountPath: string, context: string): BackupStorage {
    if (!mountPath.startsWith('/') || mountPath === '/' || mountPath.startsWith('/vt/vtdataroot')) {
      throw new Error(
        `${context}: 'mountPath' must be an absolute path outside /vt/vtdataroot, got '${mountPath}'`,
      );
    }
    return new BackupStorage({
      implementation: BackupStorageImplementation.FILE,
      context,
      flags: [
        { name: 'backup_storage_implementation', value: BackupStorageImplementation.FILE },
        { name: 'file_backup_storage_root', value: mountPath },
      ],
      volumes: [volume],
      volumeMounts: [{ name: volume.name, mountPath }],
      env: [],
      file: { volume, mountPath },
    });
  }

  /** The implementation (`--backup_storage_implementation`). */
  public readonly implementation: BackupStorageImplementation;
  /**
   * The pod volumes of the binaries that use it: the file volume (named `backups`), or the Secret
   * volumes of an object store's credentials and keys (none without Secret files).
   */
  public readonly volumes: readonly k8s.Volume[];
  /** The mounts of {@link volumes} in each container that runs such a binary. */
  public readonly volumeMounts: readonly k8s.VolumeMount[];
  /** The environment of each container that runs such a binary (values only by Secret reference, or file paths). */
  public readonly env: readonly k8s.EnvVar[];
  /** The shared file volume (named `backups`); undefined for an object store. */
  public readonly volume: k8s.Volume | undefined;
  /** Where the file volume is mounted, and the file backup storage root; undefined for an object store. */
  public readonly mountPath: string | undefined;
  /** `BackupStorage.s3` etc., for messages. @internal */
  public readonly _context: string;

  private readonly storageFlags: readonly StorageFlag[];

  private constructor(parts: StorageParts) {
    this.implementation = parts.implementation;
    this._context = parts.context;
    this.storageFlags = parts.flags;
    this.volumes = parts.volumes;
    this.volumeMounts = parts.volumeMounts;
    this.env = parts.env;
    this.volume = parts.file?.volume;
    this.mountPath = parts.file?.mountPath;
  }

  /** The mount of the shared file volume; undefined for an object store. */
  public get volumeMount(): k8s.VolumeMount | undefined {
    return this.volume !== undefined ? { name: this.volume.name, mountPath: this.mountPath! } : undefined;
  }

  /** The flags that make a Vitess binary use this storage, as the release spells them. */
  public flags(release: VitessRelease): string[] {
    return this.storageFlags.map((flag) => release.flag(flag.name, flag.value));
  }
}

/** A Secret key mounted as one file, read-only, in a folder of its own below {@link SECRETS_DIR}. */
function secretFile(volumeName: string, secretName: string, key: string, fileName: string): { volume: k8s.Volume; volumeMount: k8s.VolumeMount; path: string } {
  const mountPath = `${SECRETS_DIR}/${volumeName}`;
  return {
    volume: { name: volumeName, secret: { secretName, items: [{ key, path: fileName }] } },
    volumeMount: { name: volumeName, mountPath, readOnly: true },
    path: `${mountPath}/${fileName}`,
  };
}

function validateSecretKeyRef(context: string, prop: string, ref: SecretKeyRef): void {
  if (ref === undefined || ref === null || typeof ref !== 'object') {
    throw new Error(`${context}: '${prop}' must be a Secret key { secretName, key }, got ${JSON.stringify(ref)}`);
  }
  validateSubdomainName(context, `${prop}.secretName`, ref.secretName);
  validateDataKey(context, `${prop}.key`, ref.key, 'Secret');
}

/** IPv4 in dotted-decimal form, which neither S3 nor GCS takes as a bucket name. */
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The general purpose bucket naming rules of Amazon S3 ("Bucket naming rules", Amazon S3 User
 * Guide): 3-63 characters; lowercase letters, digits, '.' and '-'; a letter or digit first and
 * last; no '..'; not an IPv4 address; none of the reserved prefixes and suffixes.
 */
function validateS3Bucket(context: string, bucket: string): void {
  const problem =
    typeof bucket !== 'string' || bucket.length < 3 || bucket.length > 63
      ? 'must have 3 to 63 characters'
      : !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)
        ? "must be lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
        : bucket.includes('..')
          ? "must not contain '..'"
          : IPV4.test(bucket)
            ? 'must not be an IP address'
            : ['xn--', 'sthree-', 'amzn-s3-demo-'].find((prefix) => bucket.startsWith(prefix)) !== undefined
              ? "must not start with 'xn--', 'sthree-' or 'amzn-s3-demo-'"
              : ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'].find((suffix) => bucket.endsWith(suffix)) !== undefined
                ? "must not end with '-s3alias', '--ol-s3', '.mrap', '--x-s3' or '--table-s3'"
                : undefined;
  if (problem !== undefined) {
    throw new Error(`${context}: 'bucket' is not a valid S3 bucket name: it ${problem}, got '${bucket}'`);
  }
}

/**
 * Google Cloud Storage's bucket naming rules ("Bucket names", Cloud Storage documentation):
 * lowercase letters, digits, '-', '_' and '.'; a letter or digit first and last; 3-63 characters,
 * or up to 222 with dots, each dot-separated part at most 63; not an IPv4 address; not starting
 * with `goog` and not containing `google` (or `g00gle`).
 */
function validateGcsBucket(context: string, bucket: string): void {
  const parts = typeof bucket === 'string' ? bucket.split('.') : [];
  const problem =
    typeof bucket !== 'string' || bucket.length < 3 || bucket.length > 222 || (!bucket.includes('.') && bucket.length > 63)
      ? 'must have 3 to 63 characters (up to 222 with dots)'
      : !/^[a-z0-9][a-z0-9._-]*[a-z0-9]$/.test(bucket)
        ? "must be lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        : parts.some((part) => part.length === 0 || part.length > 63)
          ? 'must have dot-separated parts of 1 to 63 characters'
          : IPV4.test(bucket)
            ? 'must not be an IP address'
            : bucket.startsWith('goog') || /g[o0][o0]gle/.test(bucket)
              ? "must not start with 'goog' or contain 'google'"
              : undefined;
  if (problem !== undefined) {
    throw new Error(`${context}: 'bucket' is not a valid Cloud Storage bucket name: it ${problem}, got '${bucket}'`);
  }
}

/**
 * An AWS region name (`us-east-1`, `us-gov-west-1`, `ap-southeast-2`); with a custom endpoint also
 * a plain name such as `auto` that an S3-compatible store may expect.
 */
function validateRegion(context: string, region: string, customEndpoint: boolean): void {
  const aws = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
  const other = /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/;
  if (typeof region !== 'string' || !(aws.test(region) || (customEndpoint && other.test(region)))) {
    throw new Error(
      `${context}: 'region' must be an AWS region name such as 'us-east-1'` +
        (customEndpoint ? " (or, with an 'endpoint', a name of lowercase letters, digits and '-')" : '') +
        `, got '${region}'`,
    );
  }
}

/** An http or https URL of a host and an optional port, without credentials, path, query or fragment. */
function validateEndpoint(context: string, endpoint: string): void {
  let url: URL | undefined;
  try {
    url = typeof endpoint === 'string' && /^https?:\/\/[^\s/?#@]+$/.test(endpoint) ? new URL(endpoint) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || url.hostname === '' || url.username !== '' || url.password !== '') {
    throw new Error(
      `${context}: 'endpoint' must be an http or https URL of a host and an optional port, without a path, ` +
        `e.g. 'https://s3.storage.internal:9000', got '${endpoint}'`,
    );
  }
}

/** An object name prefix: no leading, trailing or double '/', no whitespace or control characters. */
function validateKeyPrefix(context: string, prop: string, prefix: string): void {
  if (
    typeof prefix !== 'string' ||
    prefix.length === 0 ||
    prefix.length > 256 ||
    prefix.startsWith('/') ||
    prefix.endsWith('/') ||
    prefix.includes('//') ||
    [...prefix].some((ch) => /\s/.test(ch) || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)
  ) {
    throw new Error(
      `${context}: '${prop}' must be 1 to 256 characters without whitespace, without a leading or trailing '/' ` +
        `and without '//' (Vitess adds the '/' after it), got '${prefix}'`,
    );
  }
}
