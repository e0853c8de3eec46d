// The Prometheus mysqld_exporter sidecar of the tablet pods (TabletShard's `mysqldExporter`): its
// container, its checks and its collector flags. Not part of the public API.
//
// What it relies on, at the exporter release of the default image (v0.19.0, commit 464bc5de):
// - `--mysqld.address=unix://<path>` connects over a Unix socket and `--mysqld.username` names the
//   user, both used only where the my.cnf file has none (config/config.go:110-132 at v0.19.0; the
//   `unix://` form came with v0.19.0, #1003: before it the socket could only come from a my.cnf);
// - `--config.my-cnf=` (empty) reads no file: the file is loaded leniently, so a missing one is no
//   error (config/config.go:46-48 and 101-105), and the default `.my.cnf` of the working
//   directory is not read;
// - the password is `${MYSQLD_EXPORTER_PASSWORD}`, expanded from the environment
//   (config/config.go:103 and 134), so that it can come from a Secret and never from an argument;
// - the flags (`--web.listen-address`, `--web.telemetry-path`, `--[no-]collect.<name>`) are those
//   of mysqld_exporter.go:39-76 and 232-253; its `/` is a landing page served whether or not
//   MySQL answers (mysqld_exporter.go:274-293), unlike `/metrics`, which runs every collector.
// test/mysqld-exporter.real.test.ts runs the synthesized command line against a real MariaDB.
import { k8s } from '../../imports/k8s';
import { validateDataKey, validateSubdomainName } from './names';
import { httpProbe, resources, validateResources } from './pod';
import { closest, ContainerSpec } from './pod-extensions';

/** The default image: the exporter release that tools/build.sh builds for the tests (MYSQLD_EXPORTER_VERSION). */
export const MYSQLD_EXPORTER_IMAGE = 'prom/mysqld-exporter:v0.19.0';
/** The exporter's own default port (mysqld_exporter.go:76 at v0.19.0). */
export const MYSQLD_EXPORTER_PORT = 9104;
/** The name of the exporter's container. */
export const MYSQLD_EXPORTER_CONTAINER = 'mysqld-exporter';
/** The name of the exporter's port, in the container and in the tablets' Service. */
export const MYSQLD_EXPORTER_PORT_NAME = 'metrics';
/** Where the exporter serves its metrics. */
export const MYSQLD_EXPORTER_PATH = '/metrics';
/**
 * The MySQL user of the exporter: the monitoring user of every release's init_db.sql, created
 * without a password and granted `SELECT, PROCESS, SUPER, REPLICATION CLIENT, RELOAD ON *.*` and
 * `SELECT, UPDATE, DELETE, DROP ON performance_schema.*` (config/init_db.sql:87-92 at v0.9.0,
 * :67-72 at v0.22.4 and v0.24.4), which covers the exporter's required grants (PROCESS,
 * REPLICATION CLIENT, SELECT: its README at v0.19.0) without vt_dba's `ALL` and `GRANT OPTION`.
 */
export const MYSQLD_EXPORTER_USER = 'vt_monitoring';
/** The oldest exporter minor release (v0.<minor>) that takes `--mysqld.address=unix://`. */
const OLDEST_MINOR = 19;

/**
 * The `--collect.*` flags of the default image's release (v0.19.0), by name without `collect.`:
 * `bool` for an on/off flag (`--collect.<name>`, `--no-collect.<name>`), `value` for one that takes
 * a value. test/mysqld-exporter.real.test.ts checks this list against the built binary's `--help`.
 */
export const MYSQLD_EXPORTER_COLLECTOR_FLAGS: { readonly [name: string]: 'bool' | 'value' } = {
  'auto_increment.columns': 'bool',
  'binlog_size': 'bool',
  'engine_innodb_status': 'bool',
  'engine_tokudb_status': 'bool',
  'global_status': 'bool',
  'global_variables': 'bool',
  'heartbeat': 'bool',
  'heartbeat.database': 'value',
  'heartbeat.table': 'value',
  'heartbeat.utc': 'bool',
  'info_schema.clientstats': 'bool',
  'info_schema.innodb_cmp': 'bool',
  'info_schema.innodb_cmpmem': 'bool',
  'info_schema.innodb_metrics': 'bool',
  'info_schema.innodb_tablespaces': 'bool',
  'info_schema.processlist': 'bool',
  'info_schema.processlist.min_time': 'value',
  'info_schema.processlist.processes_by_host': 'bool',
  'info_schema.processlist.processes_by_user': 'bool',
  'info_schema.query_response_time': 'bool',
  'info_schema.replica_host': 'bool',
  'info_schema.rocksdb_perf_context': 'bool',
  'info_schema.schemastats': 'bool',
  'info_schema.tables': 'bool',
  'info_schema.tables.databases': 'value',
  'info_schema.tablestats': 'bool',
  'info_schema.userstats': 'bool',
  'mysql.user': 'bool',
  'mysql.user.privileges': 'bool',
  'perf_schema.eventsstatements': 'bool',
  'perf_schema.eventsstatements.digest_text_limit': 'value',
  'perf_schema.eventsstatements.exclude_schemas': 'value',
  'perf_schema.eventsstatements.limit': 'value',
  'perf_schema.eventsstatements.timelimit': 'value',
  'perf_schema.eventsstatementssum': 'bool',
  'perf_schema.eventswaits': 'bool',
  'perf_schema.file_events': 'bool',
  'perf_schema.file_instances': 'bool',
  'perf_schema.file_instances.filter': 'value',
  'perf_schema.file_instances.remove_prefix': 'value',
  'perf_schema.indexiowaits': 'bool',
  'perf_schema.memory_events': 'bool',
  'perf_schema.memory_events.remove_prefix': 'value',
  'perf_schema.replication_applier_status_by_worker': 'bool',
  'perf_schema.replication_group_member_stats': 'bool',
  'perf_schema.replication_group_members': 'bool',
  'perf_schema.tableiowaits': 'bool',
  'perf_schema.tablelocks': 'bool',
  'slave_hosts': 'bool',
  'slave_status': 'bool',
  'sys.user_summary': 'bool',
};

/** What a construct takes of the exporter (TabletShard's public `MysqldExporterOptions`). */
export interface ExporterSpec {
  readonly image?: string;
  readonly resources?: k8s.ResourceRequirements;
  readonly port?: number;
  readonly collectors?: { readonly [name: string]: boolean | string | number };
  readonly username?: string;
  readonly passwordSecret?: { readonly secretName: string; readonly key: string };
  readonly scrapeAnnotations?: boolean;
}

/** A port of the pod that the exporter's must differ from, and what it is (`vttablet's web port`). */
export interface TakenPort {
  readonly port: number;
  readonly user: string;
}

/** The exporter of a construct's pods, checked. */
export interface MysqldExporter {
  /** The port it serves its metrics on. */
  readonly port: number;
  /** Whether the pods' scrape annotations name its port. */
  readonly scrapeAnnotations: boolean;
  /**
   * Its container in a tablet pod whose mysqld keeps its files on the volume `dataMount`, at the
   * same path as in the mysql container: the tablet with UID `uid` puts its socket at
   * `<mount path>/vt_<uid as %010d>/mysql.sock`.
   */
  container(uid: number, dataMount: k8s.VolumeMount): ContainerSpec;
}

/**
 * The exporter of `spec`, checked under `context` and the prop name `prop`: its port (from 1024,
 * since the container runs as a user without capabilities, and none of `taken`), its image (a
 * reference with a tag or digest; an exporter release that takes `--mysqld.address=unix://`), its
 * collector flags (names and kinds of the default image's release, when it runs that image), its
 * user, password Secret and resources.
 */
export function mysqldExporter(context: string, prop: string, spec: ExporterSpec, taken: readonly TakenPort[]): MysqldExporter {
  const port = spec.port ?? MYSQLD_EXPORTER_PORT;
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new Error(
      `${context}: '${prop}.port' must be a whole number from 1024 to 65535 (the exporter runs as a user without capabilities, which cannot bind a lower port), got ${port}`,
    );
  }
  const clash = taken.find((t) => t.port === port);
  if (clash !== undefined) {
    throw new Error(`${context}: '${prop}.port' ${port} is already ${clash.user} in the tablet pods; choose another`);
  }
  const image = spec.image ?? MYSQLD_EXPORTER_IMAGE;
  validateImageReference(context, `${prop}.image`, image);
  validateResources(context, `${prop}.resources`, spec.resources);
  const username = spec.username ?? MYSQLD_EXPORTER_USER;
  // `$` would be expanded from the environment by the exporter (config/config.go:134 at v0.19.0).
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(username)) {
    throw new Error(
      `${context}: '${prop}.username' must be a MySQL user name of 1 to 32 letters, digits, '_', '.' and '-' (not starting with '.' or '-'), got '${username}'`,
    );
  }
  if (spec.passwordSecret !== undefined) {
    validateSubdomainName(context, `${prop}.passwordSecret.secretName`, spec.passwordSecret.secretName);
    validateDataKey(context, `${prop}.passwordSecret.key`, spec.passwordSecret.key, 'Secret');
  }
  const collectorArgs = renderCollectors(context, `${prop}.collectors`, spec.collectors ?? {}, image === MYSQLD_EXPORTER_IMAGE);
  const env: k8s.EnvVar[] | undefined =
    spec.passwordSecret !== undefined
      ? [{ name: 'MYSQLD_EXPORTER_PASSWORD', valueFrom: { secretKeyRef: { name: spec.passwordSecret.secretName, key: spec.passwordSecret.key } } }]
      : undefined;
  return {
    port,
    scrapeAnnotations: spec.scrapeAnnotations ?? true,
    container: (uid, dataMount) => ({
      name: MYSQLD_EXPORTER_CONTAINER,
      image,
      command: ['/bin/mysqld_exporter'],
      args: [
        `--mysqld.address=unix://${mysqldSocketPath(dataMount.mountPath, uid)}`,
        `--mysqld.username=${username}`,
        '--config.my-cnf=',
        `--web.listen-address=:${port}`,
        `--web.telemetry-path=${MYSQLD_EXPORTER_PATH}`,
        ...collectorArgs,
      ],
      env,
      ports: [{ name: MYSQLD_EXPORTER_PORT_NAME, containerPort: port }],
      // `/` answers while the exporter runs, whether or not mysqld does (mysqld_exporter.go:274-293
      // at v0.19.0): a tablet whose mysqld is still starting or restoring stays ready as far as the
      // exporter goes, and Prometheus still gets mysql_up 0 from /metrics.
      readinessProbe: httpProbe('/', port, { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 }),
      livenessProbe: httpProbe('/', port, { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 }),
      resources: spec.resources ?? resources('10m', '32Mi', '128Mi'),
      // Read-only: connecting to a Unix socket needs no write access to its file system.
      volumeMounts: [{ name: dataMount.name, mountPath: dataMount.mountPath, readOnly: true }],
    }),
  };
}

/**
 * mysqld's socket of the tablet `uid` under the data root `dataRoot`: Vitess puts it in the
 * tablet's directory `$VTDATAROOT/vt_<uid as %010d>` (go/vt/mysqlctl/mycnf_gen.go:74 and 91-96 at
 * v0.9.0, :83 and 102-112 at v0.22.4, :84 and 103-113 at v0.24.4), and the images set VTDATAROOT
 * to the data volume's mount path, /vt/vtdataroot (docker/lite/Dockerfile.mysql57:48 at v0.9.0,
 * docker/lite/Dockerfile:60 at v0.22.4, :79 at v0.24.4).
 */
export function mysqldSocketPath(dataRoot: string, uid: number): string {
  return `${dataRoot}/vt_${String(uid).padStart(10, '0')}/mysql.sock`;
}

/**
 * The `--collect.*` arguments of `collectors`: `true` gives `--collect.<name>`, `false`
 * `--no-collect.<name>`, a string or number `--collect.<name>=<value>`. A name may be written with
 * `collect.` and leading dashes. With the default image (`known`), each name must be one of its
 * release's flags and the value of the flag's kind.
 */
function renderCollectors(
  context: string,
  prop: string,
  collectors: { readonly [name: string]: boolean | string | number },
  known: boolean,
): string[] {
  return Object.entries(collectors).map(([written, value]) => {
    const name = written.replace(/^-{1,2}/, '').replace(/^collect\./, '');
    if (!/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/.test(name)) {
      throw new Error(
        `${context}: '${prop}' has the name '${written}'; a collector flag name is lowercase words of letters, digits and '_' joined by '.', such as 'info_schema.processlist'`,
      );
    }
    if (!['boolean', 'string', 'number'].includes(typeof value)) {
      throw new Error(`${context}: '${prop}.${name}' must be a boolean, a string or a number, got ${JSON.stringify(value)}`);
    }
    if (typeof value === 'string' && /[\r\n]/.test(value)) {
      throw new Error(`${context}: '${prop}.${name}' must be one line, got ${JSON.stringify(value)}`);
    }
    if (known) {
      const kind = MYSQLD_EXPORTER_COLLECTOR_FLAGS[name];
      if (kind === undefined) {
        const near = closest(name, Object.keys(MYSQLD_EXPORTER_COLLECTOR_FLAGS));
        throw new Error(
          `${context}: '${prop}.${name}' is not a collector flag of ${MYSQLD_EXPORTER_IMAGE}` + (near.length > 0 ? `; the closest are ${near.join(', ')}` : ''),
        );
      }
      if ((kind === 'bool') !== (typeof value === 'boolean')) {
        throw new Error(
          `${context}: '${prop}.${name}' ` +
            (kind === 'bool' ? `turns a collector on or off and takes true or false, got ${JSON.stringify(value)}` : `takes a value (a string or a number), got ${value}`),
        );
      }
    }
    if (typeof value === 'boolean') {
      return value ? `--collect.${name}` : `--no-collect.${name}`;
    }
    return `--collect.${name}=${value}`;
  });
}

/** A path component of an image name (distribution's reference grammar). */
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** A registry host (a DNS name or an IPv6 address in brackets) with an optional port. */
const DOMAIN = '(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]+)?';
/** An image reference, `[registry/]path[:tag][@digest]`, with its name, tag and digest captured. */
const IMAGE_REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)` +
    '(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?' +
    '(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$',
);

/**
 * Throws unless `image` is an image reference (the grammar of the distribution project's
 * reference package: `[registry[:port]/]path[:tag][@digest]`, lowercase path, a name of at most
 * 255 characters) pinned by a tag or a digest, and, for a `mysqld-exporter` image tagged
 * `v0.<minor>.<patch>`, a release that takes `--mysqld.address=unix://` (v0.19.0 or later).
 */
function validateImageReference(context: string, prop: string, image: string): void {
  const match = IMAGE_REFERENCE.exec(image);
  if (match === null || match[1].length > 255 || (match[2] === undefined && match[3] === undefined)) {
    throw new Error(
      `${context}: '${prop}' must be an image reference pinned by a tag or a digest, such as ${MYSQLD_EXPORTER_IMAGE} ` +
        `(registry and lowercase path, then ':<tag>' or '@sha256:<hex>'), got '${image}'`,
    );
  }
  const release = /(?:^|\/)mysqld-exporter$/.test(match[1]) && match[2] !== undefined ? /^v0\.(\d+)\.\d+/.exec(match[2]) : null;
  if (release !== null && Number(release[1]) < OLDEST_MINOR) {
    throw new Error(
      `${context}: '${prop}' '${image}' is an exporter release before v0.${OLDEST_MINOR}.0, which cannot connect to mysqld's socket with --mysqld.address=unix://; use v0.${OLDEST_MINOR}.0 or later`,
    );
  }
}
