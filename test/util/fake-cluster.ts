// Applies synthesized manifests to a simulated cluster: the StatefulSets of tablets start (or stop)
// tablet processes in the fake Vitess of fake-vitess-cli.ts, and every Job's script runs with bash
// against the fake vtctlclient and vtworker, in document order, with the waits shortened.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { Worker } from 'worker_threads';
import { FakeState, emptyState } from './fake-vitess-cli';
import { baseName } from './synth';

export interface JobRun {
  readonly name: string;
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The fake's invocations during this Job, as `<binary> <args without the server flag>`. */
  readonly calls: string[];
}

let compiledCli: string | undefined;

/** The fake CLI compiled to JavaScript once per test file. */
function cliScript(): string {
  if (!compiledCli) {
    const source = fs.readFileSync(path.join(__dirname, 'fake-vitess-cli.ts'), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-vitess-'));
    compiledCli = path.join(dir, 'fake-vitess-cli.js');
    fs.writeFileSync(compiledCli, outputText);
  }
  return compiledCli;
}

/**
 * The fake CLI's server of one FakeCluster, in a worker thread of the test's own process: each
 * client command (the `vtctlclient`, `vtctldclient`, `vtworker` and `curl` of the cluster's bin
 * folder, run by bash) sends its state file, binary and arguments over TCP on loopback and gets
 * back what to print and its exit status. The worker serves while the test's thread waits for bash
 * in spawnSync, so a call costs no node process. Request: NUL-terminated fields `<state file>
 * <binary> <argc> <args...>`; reply: a bash script of two printf and an exit, which the client
 * evaluates.
 */
const SERVER_SOURCE = `
const net = require('net');
const { workerData } = require('worker_threads');
const { invoke } = require(workerData.cli);
const quote = (text) => "'" + text.split("'").join("'\\\\''") + "'";
const server = net.createServer((socket) => {
  let buffer = Buffer.alloc(0);
  let done = false;
  socket.on('data', (chunk) => {
    if (done) return;
    buffer = Buffer.concat([buffer, chunk]);
    const fields = buffer.toString('utf8').split('\\0');
    if (fields.length < 4 || fields.length - 1 < 3 + Number(fields[2])) return;
    done = true;
    const [stateFile, binary, argc, ...args] = fields;
    let reply;
    try {
      const r = invoke(stateFile, binary, args.slice(0, Number(argc)));
      reply = 'printf %s ' + quote(r.stdout) + '; printf %s ' + quote(r.stderr) + ' >&2; exit ' + r.status;
    } catch (error) {
      reply = 'printf %s ' + quote('fake CLI crashed: ' + (error && error.stack || error) + '\\n') + ' >&2; exit 70';
    }
    socket.end(reply);
  });
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => {
  const port = new Int32Array(workerData.port);
  Atomics.store(port, 0, server.address().port);
  Atomics.notify(port, 0);
});
`;

/** A running fake CLI server: its port on 127.0.0.1 and the worker thread that serves it. */
interface CliServer {
  readonly port: number;
  readonly worker: Worker;
}

/** Starts a fake CLI server and waits (at most 10 s) until it listens. */
function startCliServer(): CliServer {
  const port = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(SERVER_SOURCE, { eval: true, workerData: { cli: cliScript(), port: port.buffer } });
  worker.unref();
  if (Atomics.wait(port, 0, 0, 10_000) === 'timed-out') {
    void worker.terminate();
    throw new Error('fake-cluster: the fake CLI server did not listen within 10 s');
  }
  return { port: Atomics.load(port, 0), worker };
}

/** A client command of the fake CLI: bash's /dev/tcp to the server, no process besides bash. */
function clientScript(port: number, stateFile: string, binary: string): string {
  return [
    '#!/bin/bash',
    `exec 3<>/dev/tcp/127.0.0.1/${port} || exit 70`,
    `printf '%s\\0' '${stateFile}' '${binary}' "$#" "$@" >&3`,
    "IFS= read -r -d '' reply <&3",
    'exec 3<&-',
    'eval "$reply"',
    '',
  ].join('\n');
}

/**
 * The value of `-name=value` (v9) or `--name=value` (v22) in a container's args, the name also
 * spelled with dashes for underscores (`--init-keyspace`, v24).
 */
function flagValue(args: string[], name: string): string | undefined {
  const names = [name, name.replace(/_/g, '-')];
  const found = args.find((a) => names.some((n) => a.startsWith(`-${n}=`) || a.startsWith(`--${n}=`)));
  return found?.slice(found.indexOf('=') + 1);
}

export class FakeCluster {
  private readonly dir: string;
  private readonly stateFile: string;
  private readonly binDir: string;
  /** The fake CLI's server of this cluster, ended by {@link dispose}. */
  private readonly server: CliServer;

  /** The folder that stands for the shared backup volume, mounted at /vt/backups in the pods. */
  public readonly backupRoot: string;
  private readonly serviceAccountDir: string;

  /**
   * @param waitPolls how many failed polls a Job's wait for its preconditions takes before it gives
   *   up (instead of its timeout in seconds), and how often a tablet's preStop hook tries its hand-off
   * @param tabletStartTicks how many invocations of the fake pass after a tablet registers (or
   *   restarts) before it can take part in a reparent, as a tablet whose mysqld is still starting
   */
  public constructor(
    private readonly waitPolls = 5,
    private readonly tabletStartTicks = 2,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-cluster-'));
    this.stateFile = path.join(this.dir, 'state.json');
    this.binDir = path.join(this.dir, 'bin');
    this.backupRoot = path.join(this.dir, 'backups');
    fs.mkdirSync(this.binDir);
    this.server = startCliServer();
    fs.mkdirSync(this.backupRoot);
    // The service account files a pod with a token sees, for the Jobs that call the Kubernetes API.
    this.serviceAccountDir = path.join(this.dir, 'serviceaccount');
    fs.mkdirSync(this.serviceAccountDir);
    fs.writeFileSync(path.join(this.serviceAccountDir, 'token'), 'fake-token');
    fs.writeFileSync(path.join(this.serviceAccountDir, 'ca.crt'), 'fake-ca');
    fs.writeFileSync(path.join(this.serviceAccountDir, 'namespace'), 'default');
    for (const binary of ['vtctlclient', 'vtctldclient', 'vtworker', 'curl']) {
      fs.writeFileSync(
        path.join(this.binDir, binary),
        clientScript(this.server.port, this.stateFile, binary),
        { mode: 0o755 },
      );
    }
    this.write({ ...emptyState(), backupRoot: this.backupRoot });
  }

  public get state(): FakeState {
    return JSON.parse(fs.readFileSync(this.stateFile, 'utf8'));
  }

  /** Changes the state directly, e.g. to break something a guard should notice. */
  public update(change: (state: FakeState) => void): void {
    const state = this.state;
    change(state);
    this.write(state);
  }

  /**
   * `kubectl apply -f`: creates the file's ConfigMaps (an existing one keeps the keys that its
   * manifest does not set), starts its tablets, then runs its Jobs in order.
   */
  public apply(manifests: any[]): JobRun[] {
    this.update((state) => {
      const configMaps = (state.configMaps ??= {});
      for (const m of manifests.filter((o) => o.kind === 'ConfigMap')) {
        configMaps[m.metadata.name] = { ...(configMaps[m.metadata.name] ?? {}), ...(m.data ?? {}) };
      }
    });
    this.setTablets(manifests, true);
    return manifests.filter((m) => m.kind === 'Job').map((job) => this.runJob(job));
  }

  /**
   * `kubectl delete -f`: runs the preStop hooks of the file's tablets (all pods stop at once, so
   * every hook runs while all tablets are still up), then stops the tablets (their topology records
   * stay). Returns the hook runs.
   */
  public delete(manifests: any[]): JobRun[] {
    const runs: JobRun[] = [];
    for (const m of manifests.filter((o) => o.kind === 'StatefulSet')) {
      for (const c of m.spec.template.spec.containers) {
        const hook = c.lifecycle?.preStop?.exec?.command;
        if (hook && c.name === 'vttablet') {
          runs.push(this.runScript(`${m.metadata.name}/${c.name}/preStop`, hook));
        }
      }
    }
    this.setTablets(manifests, false);
    return runs;
  }

  /**
   * One invocation of the fake CLI that changes nothing (`vtctldclient GetCellInfoNames`): time
   * passing, in which running tablets whose record is gone restart and register again.
   */
  public tick(): void {
    const result = spawnSync(path.join(this.binDir, 'vtctldclient'), ['--server=vtctld:15999', 'GetCellInfoNames'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
  }

  public dispose(): void {
    void this.server.worker.terminate();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private write(state: FakeState): void {
    fs.writeFileSync(this.stateFile, JSON.stringify(state));
  }

  private setTablets(manifests: any[], up: boolean): void {
    this.update((state) => {
      for (const m of manifests) {
        if (m.kind !== 'StatefulSet') {
          continue;
        }
        const vttablet = m.spec.template.spec.containers.find((c: any) => c.name === 'vttablet');
        if (!vttablet) {
          continue;
        }
        const args: string[] = vttablet.args;
        const alias = flagValue(args, 'tablet-path')!;
        const existing = state.tablets[alias];
        if (existing) {
          if (up && !existing.up) {
            existing.startTicks = this.tabletStartTicks;
          }
          existing.up = up;
          continue;
        }
        if (!up) {
          continue;
        }
        const [cell, uid] = alias.split('-');
        state.tablets[alias] = {
          alias,
          cell,
          uid: Number(uid),
          keyspace: flagValue(args, 'init_keyspace')!,
          shard: flagValue(args, 'init_shard')!,
          type: flagValue(args, 'init_tablet_type')!,
          up: true,
          registered: false,
          startTicks: this.tabletStartTicks,
        };
      }
    });
  }

  /**
   * Runs one Job of a CronJob (its job template's script), as the CronJob controller starts one at
   * its schedule; `args` follow the script (`bash -c <script> bash <args>`).
   */
  public runCronJob(cronJob: any, args: readonly string[] = []): JobRun {
    expect(cronJob.kind).toBe('CronJob');
    return this.runScript(cronJob.metadata.name, cronJob.spec.jobTemplate.spec.template.spec.containers[0].command, args);
  }

  private runJob(job: any): JobRun {
    // By the Job's base name, which tests name; the object name adds a hash.
    return this.runScript(baseName(job), job.spec.template.spec.containers[0].command);
  }

  private runScript(name: string, command: string[], args: readonly string[] = []): JobRun {
    expect(command.slice(0, 2)).toEqual(['/bin/bash', '-c']);
    const script: string = command[2];
    // The fake changes only when it is invoked, never with time, so the waits count failed polls
    // instead of seconds and do not sleep: a test takes the same path however busy the machine is.
    let deadlines = 0;
    const local = script
      .split('/vt/bin/')
      .join(`${this.binDir}/`)
      .split('/vt/backups')
      .join(this.backupRoot)
      .split('/var/run/secrets/kubernetes.io/serviceaccount')
      .join(this.serviceAccountDir)
      .replace(/^retry_delay=\d+$/gm, 'retry_delay=0')
      // The preconditions' wait as given, the wait for the commands' effect (the copy) 50 polls.
      .replace(/^deadline=\$\(\( \$\(date \+%s\) \+ \d+ \)\)$/gm, () => {
        deadlines += 1;
        return `polls=0; max_polls=${deadlines === 1 ? this.waitPolls : EFFECT_WAIT_POLLS}`;
      })
      .split('    if [ "$(date +%s)" -ge "$deadline" ]; then')
      .join('    if polls=$((polls + 1)); [ "$polls" -gt "$max_polls" ]; then')
      .replace(/^ {4}sleep \d+$/m, '    :')
      // The tablets' preStop hand-off: tried as often as a Job's wait polls.
      .replace(/^deadline=\$\(\(SECONDS \+ \d+\)\)$/m, `polls=0; max_polls=${this.waitPolls}`)
      .split('  if [ "$SECONDS" -ge "$deadline" ]; then')
      .join('  if polls=$((polls + 1)); [ "$polls" -gt "$max_polls" ]; then')
      .replace(/^ {2}sleep \d+$/m, '  :');
    const before = this.state.calls.length;
    // curl is the fake's: the Kubernetes API of the simulated cluster.
    const env = { ...process.env, PATH: `${this.binDir}:${process.env.PATH}`, KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const result = spawnSync('/bin/bash', ['-c', local, 'bash', ...args], { encoding: 'utf8', timeout: 60000, env });
    return {
      name,
      status: result.status ?? -1,
      stdout: result.stdout,
      stderr: result.stderr,
      calls: this.state.calls.slice(before),
    };
  }
}

/** The failed polls of a Job's wait for the effect of its commands (the copy) before it gives up. */
const EFFECT_WAIT_POLLS = 50;

/** The read-only commands the Jobs' checks run, of vtctlclient (v9) and vtctldclient (v22). */
const READ_ONLY =
  /^vtctld?client (GetCellInfoNames|ListAllTablets|GetTablets|GetShard|GetSchema|GetSrvKeyspaces?|GetSrvVSchema|GetVSchema|GetKeyspace|ListBackups|GetBackups|GetWorkflows|Ping|PingTablet|ValidateSchemaKeyspace) |^vtctlclient ExecuteFetchAsDba -json \S+ SELECT COUNT\(\*\) FROM _vt\.reparent_journal |^vtctldclient (Reshard|VDiff) .* show /;

/**
 * The commands of the Jobs that change the cluster, in order, without the read-only checks;
 * vtworker runs shortened to `vtworker <Command> <args>` and multi-line SQL to its first line.
 */
export function changingCommands(runs: JobRun[]): string[] {
  return runs
    .flatMap((run) => run.calls)
    .filter((call) => !READ_ONLY.test(`${call} `) && !/^curl .* -X GET /.test(call))
    .map((call) => kubernetesCall(call))
    .map((call) => call.replace(/^vtworker .* (SplitClone|SplitDiff) /, 'vtworker $1 ').replace(/\n[^]*\) ENGINE=InnoDB/, ' ...'));
}

/** A curl PATCH of a ConfigMap shortened to `kubernetes PATCH configmap/<name> <merge patch>`. */
function kubernetesCall(call: string): string {
  const match = /^curl .* -X PATCH .* --data (\{.*\}) https:\/\/\S+\/configmaps\/(\S+)$/.exec(call);
  return match ? `kubernetes PATCH configmap/${match[2]} ${match[1]}` : call;
}

/** Fails the test unless every Job exited with 0 and wrote nothing to stderr. */
export function expectJobsSucceeded(runs: JobRun[]): void {
  for (const run of runs) {
    expect({ job: run.name, status: run.status, stderr: run.stderr }).toEqual({ job: run.name, status: 0, stderr: '' });
  }
}
