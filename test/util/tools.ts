// The binaries that tools/build.sh builds from the Go module proxy for the tests, at the versions
// of tools/versions.env.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const REPO = path.resolve(__dirname, '../..');

/** The pinned tool versions, from tools/versions.env (`NAME=value` lines). */
export function toolVersions(): Record<string, string> {
  const file = path.join(REPO, 'tools', 'versions.env');
  const versions: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) {
      versions[match[1]] = match[2].replace(/^["']|["']$/g, '');
    }
  }
  return versions;
}

/**
 * Where tools/build.sh puts what it builds, as `tools/build.sh --print-env` prints it
 * (KUBERNETES_BIN_DIR, ETCD_BIN_DIR, VITESS_V24_BIN_DIR, VITESS_V24_IMAGE_DIR, ...).
 */
export function toolPaths(): Record<string, string> {
  const result = spawnSync('bash', [path.join(REPO, 'tools', 'build.sh'), '--print-env'], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`'tools/build.sh --print-env' failed (exit ${result.status}): ${result.stderr}`);
  }
  const env: Record<string, string> = {};
  for (const line of result.stdout.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) env[match[1]] = match[2];
  }
  return env;
}

/** The binaries of the control plane, as tools/build.sh leaves them. */
export interface ControlPlaneBinaries {
  readonly kubernetesVersion: string;
  readonly etcdVersion: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubectl: string;
  readonly etcd: string;
  readonly etcdctl: string;
}

/**
 * The built binaries; throws, naming the missing file and the command that builds it, when
 * tools/build.sh has not run.
 */
export function controlPlaneBinaries(): ControlPlaneBinaries {
  const env = toolPaths();
  const versions = toolVersions();
  const binaries: ControlPlaneBinaries = {
    kubernetesVersion: versions.KUBERNETES_VERSION,
    etcdVersion: versions.ETCD_VERSION,
    kubeApiserver: path.join(env.KUBERNETES_BIN_DIR, 'kube-apiserver'),
    kubeControllerManager: path.join(env.KUBERNETES_BIN_DIR, 'kube-controller-manager'),
    kubectl: path.join(env.KUBERNETES_BIN_DIR, 'kubectl'),
    etcd: path.join(env.ETCD_BIN_DIR, 'etcd'),
    etcdctl: path.join(env.ETCD_BIN_DIR, 'etcdctl'),
  };
  for (const [name, file] of Object.entries(binaries)) {
    if (name.endsWith('Version')) continue;
    if (!fs.existsSync(file)) {
      throw new Error(`${file} is missing: build it with 'tools/build.sh' (needs Go and the Go module proxy; .ci/run does it)`);
    }
  }
  return binaries;
}

