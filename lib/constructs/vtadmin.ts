import { createHash } from 'crypto';
import { Construct } from 'constructs';
import * as yaml from 'js-yaml';
import { k8s } from '../../imports/k8s';
import type { IVtctld, IVtgate } from '../interfaces';
import { claimObjectName, clusterLabels, inCluster, validateClusterName, validateObjectName } from '../internal/names';
import {
  APP_LABEL,
  DAEMON_READINESS_TIMING,
  TMP_MOUNT,
  TMP_VOLUME,
  createNetworkPolicy,
  daemonProbes,
  httpProbe,
  ingressRule,
  resources,
  validateResources,
} from '../internal/pod';
import { createDisruptionBudget, vitessPodTemplate } from '../internal/pod-skeleton';
import type { VitessRelease } from '../release';
import type { WorkloadOptions } from '../workload-options';

/**
 * The VTAdmin API's port (HTTP `/api`, `/health`, `/metrics`, and its gRPC API on the same port):
 * the port of Vitess's own VTAdmin setups (web/vtadmin/build.sh:27 at v0.22.4 and v0.24.4).
 */
export const VTADMIN_API_PORT = 14200;
/**
 * The VTAdmin web UI's port: the `VTADMIN_WEB_PORT` of the vitess/vtadmin image
 * (docker/binaries/vtadmin/Dockerfile:34 at v0.22.4, :45 at v0.24.4).
 */
export const VTADMIN_WEB_PORT = 14201;

/**
 * The resources of VTAdmin's RBAC rules: vtadmin's `rbac.Resource` values
 * (go/vt/vtadmin/rbac/rbac.go:99-142 at v0.22.4 and v0.24.4, the same file at both tags).
 */
export const VTADMIN_RBAC_RESOURCES: readonly string[] = [
  'Cluster',
  'Topology',
  'CellInfo',
  'CellsAlias',
  'Keyspace',
  'Shard',
  'Tablet',
  'VTGate',
  'Vtctld',
  'VSchema',
  'SrvKeyspace',
  'SrvVSchema',
  'Schema',
  'SchemaMigration',
  'Backup',
  'ShardReplicationPosition',
  'Workflow',
  'VTExplain',
  'VExplain',
  'TabletFullStatus',
];

/**
 * The actions of VTAdmin's RBAC rules: vtadmin's `rbac.Action` values
 * (go/vt/vtadmin/rbac/rbac.go:60-97 at v0.22.4 and v0.24.4). vtadmin itself takes any string and
 * never matches one that is not among them.
 */
export const VTADMIN_RBAC_ACTIONS: readonly string[] = [
  'cancel',
  'complete',
  'create',
  'delete',
  'get',
  'ping',
  'put',
  'reload',
  'retry',
  'cleanup_schema_migration',
  'complete_schema_migration',
  'launch_schema_migration',
  'emergency_failover_shard',
  'planned_failover_shard',
  'tablet_externally_promoted',
  'manage_tablet_replication',
  'manage_tablet_writability',
  'refresh_tablet_replication_source',
];

/** The resources of the default read-only rules: every resource but VExplain (see {@link VtadminRbac}). */
const READ_ONLY_RESOURCES = VTADMIN_RBAC_RESOURCES.filter((resource) => resource !== 'VExplain');

/** The pod annotation with the SHA-256 of the ConfigMap's content, which rolls the pods when it changes. */
const CONFIG_HASH_ANNOTATION = 'cdk8s-vitess/config-sha256';

/** Where the API container mounts the discovery file and the RBAC rules. */
const API_CONFIG_DIR = '/vt/vtadmin';
/** Where the web container mounts its nginx configuration. */
const WEB_NGINX_DIR = '/vt/vtadmin-web';
/**
 * Where the web app of the vitess/vtadmin image reads its runtime configuration: nginx serves
 * `/var/www` (docker/binaries/vtadmin/default.conf:26), whose index.html loads `/config/config.js`
 * (web/vtadmin/index.html:10 at v0.22.4 and v0.24.4).
 */
const WEB_CONFIG_DIR = '/var/www/config';

/** One rule of VTAdmin's RBAC configuration (go/vt/vtadmin/rbac/config.go:33-47). */
export interface VtadminRbacRule {
  /** A resource of {@link VTADMIN_RBAC_RESOURCES}, or `*` for every resource. */
  readonly resource: string;
  /** Actions of {@link VTADMIN_RBAC_ACTIONS}, or `['*']` for every action. */
  readonly actions: readonly string[];
  /**
   * Who the rule admits: `['*']` for everyone (also unauthenticated requests), or `user:<name>` and
   * `role:<name>` subjects, which only an `authenticator` can match (go/vt/vtadmin/rbac/rule.go:35-58).
   */
  readonly subjects: readonly string[];
  /** The VTAdmin cluster IDs the rule applies to ({@link Vtadmin.clusterId}), or `['*']` for every cluster. */
  readonly clusters: readonly string[];
}

/**
 * VTAdmin's role-based access control (vtadmin `--rbac --rbac-config`). Permissions are additive: a
 * request is allowed when a rule for its resource (or `*`) admits its action, subject and cluster
 * (go/vt/vtadmin/rbac/authorization.go:63-83), and otherwise is not carried out: vtadmin leaves the
 * cluster out of a list (e.g. `GET /api/vtctlds` answers `{"result":{},"ok":true}`) and refuses a
 * call on one cluster with an `unauthorized` error (e.g. CreateKeyspace, HTTP 500:
 * go/vt/vtadmin/api.go:601-609 at v0.24.4, :600-608 at v0.22.4); test/vtadmin.real.test.ts shows both.
 */
export interface VtadminRbac {
  /** The rules; at least one. */
  readonly rules: readonly VtadminRbacRule[];
  /**
   * The authenticator that turns a request into a user with roles, which `user:` and `role:`
   * subjects match: the name of one compiled into the vtadmin binary, or the path of a Go plugin
   * (`.so`). The release's vtadmin has none registered (go/vt/vtadmin/rbac/authentication.go:126-142:
   * only RegisterAuthenticator adds one) and is built with `CGO_ENABLED=0` (Makefile:95 at v0.22.4 and v0.24.4),
   * which cannot load plugins, so this needs a custom `image`.
   * @default - none: every request is unauthenticated, and only `*` subjects match
   */
  readonly authenticator?: string;
}

/**
 * Props of {@link Vtadmin}.
 */
export interface VtadminProps extends WorkloadOptions {
  /**
   * The Vitess release (one with a VTAdmin image, {@link VitessRelease.vtadminImage}: v22 and
   * later). It must be that of every vtctld and vtgate.
   */
  readonly release: VitessRelease;
  /**
   * The name of the Vitess cluster this belongs to: it prefixes the name of every object it creates
   * (`<clusterName>-vtadmin` unless `name` is given), labels its pods `app.kubernetes.io/instance:
   * <clusterName>`, and is VTAdmin's cluster ID and name.
   * @default - no prefix and no instance label; the VTAdmin cluster ID is `vitess`
   */
  readonly clusterName?: string;
  /**
   * The Deployment, Service and ConfigMap (`<name>-config`) name.
   * @default - `vtadmin`, prefixed with `clusterName` when given
   */
  readonly name?: string;
  /** The vtctlds VTAdmin manages the cluster through (their gRPC addresses); at least one. */
  readonly vtctlds: readonly IVtctld[];
  /**
   * The vtgates VTAdmin runs queries through (their gRPC addresses): schemas, tablets' health,
   * VTExplain and VExplain.
   * @default - none
   */
  readonly vtgates?: readonly IVtgate[];
  /**
   * The RBAC rules.
   *
   * The default admits every request to read (`get`) every resource but VExplain, and nothing else,
   * in every cluster, with no authentication: anyone who reaches the web or API port can read the
   * cluster's topology, schemas, tablets and workflows, and change nothing through VTAdmin's write
   * endpoints. It leaves out VExplain because vtadmin sends the VEXPLAIN statement to vtgate as it is
   * (go/vt/vtadmin/vtsql/vtsql.go:186-205 at v0.24.4) and vtgate executes the explained query for
   * VEXPLAIN ALL, QUERIES and TRACE (go/vt/vtgate/engine/vexplain.go:104-116), a write included.
   * Beware that vtadmin authorizes two more calls with `get` on `Cluster`, which listing the
   * clusters needs: ConcludeTransaction, which resolves a distributed transaction, and VDiffCreate,
   * which starts a VDiff (go/vt/vtadmin/api.go:580-598 and :1706-1720 at v0.24.4, :583 and :1714
   * at v0.22.4). Give rules that admit writes only with an authenticator, or behind a network
   * boundary (`clients`).
   * @default - read-only: `get` on every resource but VExplain, for every subject and cluster
   */
  readonly rbac?: VtadminRbac;
  /**
   * The number of pods.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * The image of both containers: the release's vitess/vtadmin image has the vtadmin binary and
   * nginx with the built web app.
   * @default - the release's {@link VitessRelease.vtadminImage}
   */
  readonly image?: string;
  /**
   * The API container's resources.
   * @default - requests 100m CPU and 128Mi memory, memory limit 128Mi (the vitess-operator's)
   */
  readonly apiResources?: k8s.ResourceRequirements;
  /**
   * The web container's resources.
   * @default - requests 50m CPU and 32Mi memory, memory limit 64Mi
   */
  readonly webResources?: k8s.ResourceRequirements;
  /**
   * Who may reach the web and API ports when `networkPolicy` is on, as NetworkPolicy peers.
   * @default - every source
   */
  readonly clients?: readonly k8s.NetworkPolicyPeer[];
}

/**
 * VTAdmin, Vitess's web UI and API for the cluster: a Deployment whose pods run the API
 * (`/vt/bin/vtadmin`, port 14200) and the web UI (nginx of the same image, port 14201), a Service
 * with both ports, a ConfigMap `<name>-config` with the discovery file, the RBAC rules, the web app's
 * runtime configuration and nginx's, a PodDisruptionBudget and a NetworkPolicy.
 *
 * **Discovery.** vtadmin finds the cluster's vtctlds and vtgates in a static file (`--cluster
 * id=...,name=...,discovery=staticfile,discovery-staticfile-path=...`: go/vt/vtadmin/cluster/flags.go
 * :111-286 and go/vt/vtadmin/cluster/discovery/discovery.go:129 at v0.24.4, flags.go:113 and
 * discovery.go:128 at v0.22.4), the JSON `{"vtctlds": [{"host": {"hostname": "<host:grpc port>"}}],
 * "vtgates": [{"host": {"hostname": "<host:grpc port>", "cell": "<cell>"}}]}`
 * (go/vt/vtadmin/cluster/discovery/discovery_json.go:63-80 at v0.22.4 and v0.24.4); it dials both
 * over gRPC.
 *
 * **Web and API in one pod.** The web app of the vitess/vtadmin image calls the API at the address
 * of its runtime configuration `/config/config.js` (`window.env.VITE_VTADMIN_API_ADDRESS`, read by
 * web/vtadmin/src/util/env.ts:17-19 and src/api/http.ts:44 at v0.24.4; the image's build sets no
 * VITE_ variable, docker/binaries/vtadmin/Dockerfile:29-30 at v0.22.4, :31-32 at v0.24.4, so the
 * runtime value counts). This library sets it to the empty string, so that the browser calls `/api`
 * on the origin it loaded the UI from, and nginx passes `/api/` to the API container on the pod's
 * loopback. Whatever reaches the web port (a port-forward, an Ingress, a LoadBalancer) thus reaches
 * the API too, without CORS and without an address known at synth time; that needs both in one pod,
 * as the vitess-operator runs them. nginx runs with the library's own configuration (the image's
 * default.conf plus the `/api/` proxy, with its pid and temporary files in `/tmp`), so that it
 * runs with a read-only root filesystem and as the `vitess` user.
 *
 * **Probes.** The API is ready while its gRPC health service says SERVING, which it does from start
 * until vtadmin's lame-duck period at shutdown (go/vt/vtadmin/grpcserver/server.go:155-156 and
 * :259-272 at v0.22.4 and v0.24.4; a `grpc` probe on the API port, which serves gRPC and HTTP
 * alike, :205-212), and alive while `/health` answers (go/vt/vtadmin/api.go:173-175 at v0.22.4,
 * :174-176 at v0.24.4, which answers `ok` whenever the server runs). The web is ready and alive
 * while nginx serves `/`.
 *
 * A change of the ConfigMap's content changes the pods' annotation `cdk8s-vitess/config-sha256`,
 * so the Deployment rolls its pods: vtadmin reads the files only at start.
 */
export class Vtadmin extends Construct {
  /** The Deployment, Service and ConfigMap name prefix. */
  public readonly name: string;
  /** The VTAdmin cluster ID (and name), which RBAC rules and the API's URLs name. */
  public readonly clusterId: string;
  /** `host:port` of the web UI, e.g. `vtadmin:14201`. */
  public readonly webAddress: string;
  /** `host:port` of the API, e.g. `vtadmin:14200`. */
  public readonly apiAddress: string;
  /** The ConfigMap with the discovery file, RBAC rules, web and nginx configuration. */
  public readonly configMap: k8s.KubeConfigMap;
  /** The Deployment. */
  public readonly deployment: k8s.KubeDeployment;

  public constructor(scope: Construct, id: string, props: VtadminProps) {
    super(scope, id);
    const release = props.release;
    const image = props.image ?? release.vtadminImage;
    if (image === undefined) {
      throw new Error(
        `Vtadmin: 'release' must be a Vitess release with a VTAdmin image (v22 or later), got ${release.version}, ` +
          'whose vtadmin is an early prototype without RBAC or web UI image',
      );
    }
    if (typeof image !== 'string' || !/^\S+:\S+$/.test(image)) {
      throw new Error(`Vtadmin: 'image' must be a pinned image reference (name:tag), got '${String(image)}'`);
    }
    validateClusterName('Vtadmin', 'clusterName', props.clusterName);
    this.name = props.name ?? inCluster(props.clusterName, 'vtadmin');
    validateObjectName('Vtadmin', 'name', this.name);
    validateResources('Vtadmin', 'apiResources', props.apiResources);
    validateResources('Vtadmin', 'webResources', props.webResources);
    const replicas = props.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new Error(`Vtadmin: 'replicas' must be a whole number of at least 1, got ${replicas}`);
    }
    if (props.clients !== undefined && props.networkPolicy === false) {
      throw new Error("Vtadmin: 'clients' takes effect only through the NetworkPolicy, but 'networkPolicy' is false");
    }
    if (props.clients !== undefined && props.clients.length === 0) {
      throw new Error("Vtadmin: 'clients' must name at least one peer, got none (leave it out to admit every source)");
    }
    this.clusterId = props.clusterName ?? 'vitess';
    const discovery = discoveryFile(release, props.vtctlds, props.vtgates ?? []);
    const rbac = props.rbac ?? { rules: readOnlyRules() };
    validateRbac(rbac, this.clusterId);
    claimObjectName(this, 'Vtadmin', 'Deployment', this.name);
    this.webAddress = `${this.name}:${VTADMIN_WEB_PORT}`;
    this.apiAddress = `${this.name}:${VTADMIN_API_PORT}`;

    const selector = { app: 'vitess', component: 'vtadmin', vtadmin: this.name, ...clusterLabels(props.clusterName) };
    const labels = { ...APP_LABEL, ...selector };
    const configName = `${this.name}-config`;
    const data: { [key: string]: string } = {
      'discovery.json': `${JSON.stringify(discovery, null, 2)}\n`,
      'rbac.yaml': rbacYaml(rbac),
      'config.js': webConfigJs(readOnly(rbac)),
      'nginx.conf': nginxConf(),
    };
    this.configMap = new k8s.KubeConfigMap(this, 'Config', { metadata: { name: configName, labels }, data });
    const configHash = createHash('sha256')
      .update(JSON.stringify(Object.keys(data).sort().map((key) => [key, data[key]])))
      .digest('hex');

    new k8s.KubeService(this, 'Service', {
      metadata: { name: this.name, labels },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [
          { name: 'web', port: VTADMIN_WEB_PORT, targetPort: k8s.IntOrString.fromNumber(VTADMIN_WEB_PORT) },
          { name: 'api', port: VTADMIN_API_PORT, targetPort: k8s.IntOrString.fromNumber(VTADMIN_API_PORT) },
        ],
      },
    });

    const configVolume = (name: string, keys: string[]): k8s.Volume => ({
      name,
      configMap: { name: configName, items: keys.map((key) => ({ key, path: key })) },
    });
    this.deployment = new k8s.KubeDeployment(this, 'Resource', {
      metadata: { name: this.name, labels },
      spec: {
        replicas,
        selector: { matchLabels: selector },
        template: vitessPodTemplate('Vtadmin', props, {
          labels,
          annotations: { [CONFIG_HASH_ANNOTATION]: configHash },
          release,
          metricsPort: VTADMIN_API_PORT,
          spreadAcross: selector,
          containers: [
            {
              name: 'vtadmin-api',
              image,
              command: ['/vt/bin/vtadmin'],
              args: [
                release.flag('addr', `:${VTADMIN_API_PORT}`),
                release.flag(
                  'cluster',
                  `id=${this.clusterId},name=${this.clusterId},discovery=staticfile,discovery-staticfile-path=${API_CONFIG_DIR}/discovery.json`,
                ),
                release.flag('rbac'),
                release.flag('rbac-config', `${API_CONFIG_DIR}/rbac.yaml`),
                // /debug/env prints the container's environment and /debug/pprof profiles it
                // (go/vt/vtadmin/api.go:185-200 at v0.24.4): not for whoever reaches the port.
                release.flag('http-no-debug'),
                ...release.logFlags(),
              ],
              ports: [{ name: 'api', containerPort: VTADMIN_API_PORT }],
              ...daemonProbes(VTADMIN_API_PORT, { grpc: { port: VTADMIN_API_PORT }, ...DAEMON_READINESS_TIMING }, '/health'),
              resources: props.apiResources ?? resources('100m', '128Mi', '128Mi'),
              volumeMounts: [TMP_MOUNT, { name: 'api-config', mountPath: API_CONFIG_DIR, readOnly: true }],
            },
            {
              name: 'vtadmin-web',
              image,
              command: ['nginx', '-c', `${WEB_NGINX_DIR}/nginx.conf`, '-e', 'stderr'],
              ports: [{ name: 'web', containerPort: VTADMIN_WEB_PORT }],
              readinessProbe: httpProbe('/', VTADMIN_WEB_PORT, DAEMON_READINESS_TIMING),
              livenessProbe: httpProbe('/', VTADMIN_WEB_PORT, { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 }),
              resources: props.webResources ?? resources('50m', '32Mi', '64Mi'),
              volumeMounts: [
                { name: 'web-tmp', mountPath: '/tmp' },
                { name: 'web-config', mountPath: WEB_CONFIG_DIR, readOnly: true },
                { name: 'web-nginx', mountPath: WEB_NGINX_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            TMP_VOLUME,
            { name: 'web-tmp', emptyDir: {} },
            configVolume('api-config', ['discovery.json', 'rbac.yaml']),
            configVolume('web-config', ['config.js']),
            configVolume('web-nginx', ['nginx.conf']),
          ],
        }),
      },
    });

    createDisruptionBudget(this, this.name, labels, selector);

    if (props.networkPolicy ?? true) {
      createNetworkPolicy(this, this.name, labels, selector, [ingressRule([VTADMIN_WEB_PORT, VTADMIN_API_PORT], props.clients)]);
    }
  }
}

/** The default RBAC rules: `get` on every resource but VExplain, for every subject and cluster. */
function readOnlyRules(): VtadminRbacRule[] {
  return READ_ONLY_RESOURCES.map((resource) => ({ resource, actions: ['get'], subjects: ['*'], clusters: ['*'] }));
}

/** Whether the rules admit nothing but `get`: the web UI then hides its write controls. */
function readOnly(rbac: VtadminRbac): boolean {
  return rbac.rules.every((rule) => rule.actions.length === 1 && rule.actions[0] === 'get');
}

/** The static discovery file of the vtctlds and vtgates. */
function discoveryFile(release: VitessRelease, vtctlds: readonly IVtctld[], vtgates: readonly IVtgate[]): object {
  if (!Array.isArray(vtctlds) || vtctlds.length === 0) {
    throw new Error("Vtadmin: 'vtctlds' must hold at least one vtctld (VTAdmin manages the cluster through vtctld's gRPC API), got none");
  }
  const seen = new Set<string>();
  const address = (prop: string, value: string): string => {
    if (typeof value !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[0-9]{1,5}$/.test(value)) {
      throw new Error(`Vtadmin: '${prop}' must have a gRPC address host:port, got '${String(value)}'`);
    }
    if (seen.has(value)) {
      throw new Error(`Vtadmin: '${prop}' repeats the address '${value}'`);
    }
    seen.add(value);
    return value;
  };
  const sameRelease = (prop: string, other: VitessRelease): void => {
    if (other.version !== release.version) {
      throw new Error(`Vtadmin: '${prop}' runs Vitess ${other.version}, but VTAdmin runs ${release.version}; they must run one release`);
    }
  };
  vtctlds.forEach((vtctld, i) => sameRelease(`vtctlds[${i}]`, vtctld.release));
  vtgates.forEach((vtgate, i) => sameRelease(`vtgates[${i}]`, vtgate.release));
  return {
    vtctlds: vtctlds.map((vtctld, i) => ({ host: { hostname: address(`vtctlds[${i}]`, vtctld.grpcAddress) } })),
    vtgates: vtgates.map((vtgate, i) => ({ host: { hostname: address(`vtgates[${i}]`, vtgate.grpcAddress), cell: vtgate.cell } })),
  };
}

/** Throws unless `values` is a non-empty list of distinct allowed values, with `*` only alone. */
function validateList(path: string, values: readonly string[], allowed: (value: string) => boolean, what: string): void {
  if (!Array.isArray(values) || values.length === 0) {
    throw new Error(`Vtadmin: '${path}' must hold at least one value (${what}), got ${JSON.stringify(values)}`);
  }
  for (const value of values) {
    if (typeof value !== 'string' || (value !== '*' && !allowed(value))) {
      throw new Error(`Vtadmin: '${path}' has '${String(value)}', which is not ${what}`);
    }
  }
  if (new Set(values).size !== values.length) {
    throw new Error(`Vtadmin: '${path}' repeats a value: ${values.join(', ')}`);
  }
  // vtadmin refuses to start otherwise (go/vt/vtadmin/rbac/config.go:92-108 at v0.22.4 and v0.24.4).
  if (values.includes('*') && values.length > 1) {
    throw new Error(`Vtadmin: '${path}' may hold '*' only alone (vtadmin refuses a wildcard beside other values), got ${values.join(', ')}`);
  }
}

/** Throws unless the RBAC configuration is one vtadmin loads and every rule can match. */
function validateRbac(rbac: VtadminRbac, clusterId: string): void {
  if (rbac === null || typeof rbac !== 'object' || !Array.isArray(rbac.rules) || rbac.rules.length === 0) {
    throw new Error("Vtadmin: 'rbac.rules' must hold at least one rule (without one, VTAdmin refuses every request)");
  }
  const authenticator = rbac.authenticator;
  if (authenticator !== undefined && (typeof authenticator !== 'string' || !/^\S+$/.test(authenticator))) {
    throw new Error(`Vtadmin: 'rbac.authenticator' must be an authenticator name or a .so path without spaces, got '${String(authenticator)}'`);
  }
  rbac.rules.forEach((rule, i) => {
    const path = `rbac.rules[${i}]`;
    if (rule.resource !== '*' && !VTADMIN_RBAC_RESOURCES.includes(rule.resource)) {
      throw new Error(`Vtadmin: '${path}.resource' must be '*' or one of ${VTADMIN_RBAC_RESOURCES.join(', ')}, got '${String(rule.resource)}'`);
    }
    validateList(`${path}.actions`, rule.actions, (a) => VTADMIN_RBAC_ACTIONS.includes(a), `'*' or one of ${VTADMIN_RBAC_ACTIONS.join(', ')}`);
    validateList(`${path}.subjects`, rule.subjects, (s) => /^(user|role):[^\s,]+$/.test(s), "'*', 'user:<name>' or 'role:<name>'");
    if (authenticator === undefined && !(rule.subjects.length === 1 && rule.subjects[0] === '*')) {
      throw new Error(
        `Vtadmin: '${path}.subjects' (${rule.subjects.join(', ')}) can match only an authenticated request, but 'rbac.authenticator' is not set: ` +
          "without one every request is unauthenticated and only '*' matches (go/vt/vtadmin/rbac/rule.go:35-58)",
      );
    }
    validateList(`${path}.clusters`, rule.clusters, (c) => c === clusterId, `'*' or the cluster ID '${clusterId}'`);
  });
}

/** The RBAC configuration file, as vtadmin's rbac.LoadConfig reads it (viper, go/vt/vtadmin/rbac/config.go:56-73). */
function rbacYaml(rbac: VtadminRbac): string {
  const document = {
    ...(rbac.authenticator !== undefined ? { authenticator: rbac.authenticator } : {}),
    rules: rbac.rules.map((rule) => ({
      resource: rule.resource,
      actions: [...rule.actions],
      subjects: [...rule.subjects],
      clusters: [...rule.clusters],
    })),
  };
  return yaml.dump(document, { lineWidth: -1, noRefs: true });
}

/**
 * The web app's runtime configuration (web/vtadmin/public/config/config.js of the release, with
 * these values): the API on the page's own origin, no credentials, no experimental tablet
 * `/debug/vars` passthrough (its URL template does not fit this library's tablets), and the
 * read-only mode when the rules admit nothing but `get` (the app compares the value with the string
 * 'true': web/vtadmin/src/util/env.ts:24 at v0.22.4 and v0.24.4).
 */
function webConfigJs(readOnlyMode: boolean): string {
  const env = {
    VITE_VTADMIN_API_ADDRESS: '',
    VITE_FETCH_CREDENTIALS: 'omit',
    VITE_ENABLE_EXPERIMENTAL_TABLET_DEBUG_VARS: 'false',
    VITE_BUGSNAG_API_KEY: '',
    VITE_DOCUMENT_TITLE: '',
    VITE_READONLY_MODE: readOnlyMode ? 'true' : 'false',
  };
  return `window.env = ${JSON.stringify(env, null, 4)};\n`;
}

/**
 * nginx's configuration: the server of the image's docker/binaries/vtadmin/default.conf (gzip, the
 * uncached config.js, long-cached assets, the single-page app's fallback to index.html) on
 * {@link VTADMIN_WEB_PORT}, plus `/api/` passed to the API container on the pod's loopback; the pid
 * file and temporary files in `/tmp` (an emptyDir), errors to the container's standard error
 * (`-e stderr` and `error_log stderr`, the inherited descriptor), no access log.
 */
function nginxConf(): string {
  return [
    '# The VTAdmin web UI: the server of the vitess/vtadmin image\'s default.conf, with /api/ passed to the API.',
    'daemon off;',
    'worker_processes 1;',
    'pid /tmp/nginx.pid;',
    'error_log stderr warn;',
    'events {',
    '    worker_connections 1024;',
    '}',
    'http {',
    '    include /etc/nginx/mime.types;',
    '    default_type application/octet-stream;',
    // No access log: nginx would reopen /dev/stdout, which a process of another user than the
    // owner of the container's output may not (nginx: open() "/dev/stdout" failed (13: Permission denied)).
    '    access_log off;',
    '    client_body_temp_path /tmp/client_temp;',
    '    proxy_temp_path /tmp/proxy_temp;',
    '    fastcgi_temp_path /tmp/fastcgi_temp;',
    '    uwsgi_temp_path /tmp/uwsgi_temp;',
    '    scgi_temp_path /tmp/scgi_temp;',
    '    sendfile on;',
    '    keepalive_timeout 65;',
    '    server {',
    '        gzip on;',
    '        gzip_min_length 256;',
    '        gzip_http_version 1.1;',
    '        gzip_types application/atom+xml application/geo+json application/javascript application/x-javascript application/json',
    '            application/ld+json application/manifest+json application/rdf+xml application/rss+xml application/xhtml+xml',
    '            application/xml font/eot font/otf font/ttf image/svg+xml text/css text/javascript text/plain text/xml;',
    `        listen ${VTADMIN_WEB_PORT};`,
    '        root /var/www;',
    '        location ^~ /api/ {',
    '            client_max_body_size 50M;',
    '            proxy_http_version 1.1;',
    '            proxy_set_header Host $host;',
    '            proxy_read_timeout 300s;',
    `            proxy_pass http://127.0.0.1:${VTADMIN_API_PORT};`,
    '        }',
    '        location ~ config\\.js {',
    '            expires off;',
    '            add_header Cache-Control no-store;',
    '        }',
    '        location ~* \\.(css|js)$ {',
    '            expires max;',
    '            add_header Cache-Control public;',
    '        }',
    '        location / {',
    '            client_max_body_size 50M;',
    '            try_files $uri /index.html;',
    '        }',
    '    }',
    '}',
    '',
  ].join('\n');
}
