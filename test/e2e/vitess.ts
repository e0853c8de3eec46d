// The example's VReplication flow run on real Vitess: every pod of the synthesized files runs as
// its YAML says (test/util/pod-runtime.ts: a network namespace per pod, runc on a root filesystem
// modelled from the image's Dockerfile, real mysqld, real etcd), every Job's own script runs in a
// pod of its own, the files are "applied" in order and each file's Jobs start at once, so that the
// Jobs' own waits are what orders the flow. Data goes in and out through vtgate's MySQL port with
// a real MySQL client (mysql2), rows are checked on the shard their `page` hashes to, and two
// faults are injected: a source replica tablet's pod is deleted while the Reshard workflow is
// created, and vtctld's pod is deleted while the new shards' Jobs wait.
//
// Run with `npm run e2e:vitess` (as root: network namespaces, mounts, runc); needs
// `tools/build.sh vitess-v24 image-v24`, which npm test runs first. Prints one line per flow.
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as mysql from 'mysql2/promise';
import { ExampleChanges, buildApps } from '../../main';
import { JobCondition, VitessRelease } from '../../lib';
import { CommandCheck, commandChecks } from '../../lib/jobs/job-condition';
import { clientPrefix } from '../../lib/jobs/job-script';
import { ImageModel, Pod, PodRuntime } from '../util/pod-runtime';
import { toolPaths } from '../util/tools';
import { hashKeyspaceId, shardContains } from '../util/vindex';
import { Controllers, JobRun } from '../util/workloads';

const NAMESPACE = 'default';
const AUTH_SECRET = 'vtgate-test-mysql-auth';
const MYSQL_USER = 'mysql_user';
/** Rows written through vtgate before resharding. */
const ROWS_BEFORE = 120;
/** Rows written in bulk before resharding, so that the Reshard copy lasts while a tablet goes. */
const BULK_ROWS = 20_000;
/** The longest any one file may take until its Jobs are done. */
const FILE_TIMEOUT_MS = 20 * 60_000;

/** Logs how a Job ended, and with how many pods. */
function logJob(job: JobRun, state: 'Complete' | 'Failed'): void {
  log(`  job ${job.name} ${state.toLowerCase()} (${job.pods.length} pod${job.pods.length > 1 ? 's' : ''})`);
}

/**
 * Whether a command check holds on a command's exit code and output, judged as the Job's script
 * judges it (lib/jobs/job-script.ts): the exit code, then each pattern on the output, or on the output
 * without whitespace.
 */
function checkHolds(check: CommandCheck, result: { code: number; output: string }): boolean {
  if (check.commandFails ? result.code === 0 : result.code !== 0) return false;
  const lines = check.ignoreWhitespace ? [result.output.replace(/\s/g, '')] : result.output.split('\n');
  const matches = (pattern: string) => lines.some((line) => new RegExp(pattern).test(line));
  return check.present.every(matches) && !check.absent.some(matches);
}

function log(message: string): void {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** vitess/lite, as tools/build.sh image-v24 modelled it (image.json beside rootfs/). */
function vitessImage(imageDir: string | undefined, target = 'image-v24'): ImageModel & { mysqld: string } {
  const file = path.join(imageDir ?? '.cache/tools/<image>', 'image.json');
  if (!imageDir || !fs.existsSync(file)) throw new Error(`${file} is missing: build it with 'tools/build.sh ${target}'`);
  const model = JSON.parse(fs.readFileSync(file, 'utf8'));
  return {
    image: model.image,
    rootfs: path.join(imageDir!, 'rootfs'),
    env: model.env,
    workingDir: model.workingDir ?? '/',
    uid: model.user.uid,
    gid: model.user.gid,
    mysqld: mysqldName(model.mysqld),
  };
}

/** `/usr/sbin/mysqld  Ver 9.7.4-2 for Linux on x86_64 ((Debian))` as `MySQL 9.7.4-2 (Debian)`. */
function mysqldName(versionLine: string): string {
  const m = /Ver (\S+)(?: for \S+ on \S+)? \((.*)\)$/.exec(versionLine.trim());
  if (!m) return versionLine.trim();
  const flavor = /MariaDB/i.test(versionLine) ? 'MariaDB' : 'MySQL';
  return `${flavor} ${m[1]} (${m[2].replace(/^\((.*)\)$/, '$1')})`;
}

/**
 * quay.io/coreos/etcd:v3.5.x, modelled from etcd's Dockerfile-release.amd64 (release-3.5):
 * distroless static with etcd and etcdctl in /usr/local/bin, WORKDIR /var/etcd then /var/lib/etcd,
 * an nsswitch.conf; distroless's /etc/passwd (root, nonroot 65532) and /tmp. etcdutl is not built.
 */
function etcdImage(workDir: string, etcdBinDir: string, image: string): ImageModel {
  const rootfs = path.join(workDir, 'images', 'etcd', 'rootfs');
  for (const d of ['usr/local/bin', 'var/etcd', 'var/lib/etcd', 'etc', 'tmp']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  for (const bin of ['etcd', 'etcdctl']) fs.copyFileSync(path.join(etcdBinDir, bin), path.join(rootfs, 'usr/local/bin', bin));
  for (const bin of ['etcd', 'etcdctl']) fs.chmodSync(path.join(rootfs, 'usr/local/bin', bin), 0o755);
  fs.writeFileSync(path.join(rootfs, 'etc/nsswitch.conf'), 'hosts: files dns\n');
  fs.writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n');
  fs.writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nnonroot:x:65532:\n');
  return { image, rootfs, env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' }, workingDir: '/var/lib/etcd', uid: 0, gid: 0 };
}

/** The YAML files of a folder in lexical (apply) order. */
function yamlFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(dir, f));
}

/** The images the files name. */
function imagesOf(files: readonly string[]): Set<string> {
  const images = new Set<string>();
  for (const f of files) for (const m of fs.readFileSync(f, 'utf8').matchAll(/image: (\S+)/g)) images.add(m[1]);
  return images;
}

class VitessFlow {
  private readonly runtime: PodRuntime;
  private readonly controllers: Controllers;
  private readonly password = crypto.randomBytes(12).toString('hex');
  private readonly written = new Map<string, string>();
  private writerErrors = 0;
  /** What happened to each failed write during the switch. */
  public readonly writeOutcomes: string[] = [];
  private writing = false;
  private readonly faults: string[] = [];

  public constructor(workDir: string, images: ImageModel[], prefix: string) {
    this.runtime = new PodRuntime({
      workDir,
      images,
      namespace: NAMESPACE,
      prefix,
      secrets: {
        [AUTH_SECRET]: { 'users.json': JSON.stringify({ [MYSQL_USER]: [{ UserData: MYSQL_USER, Password: this.password }] }) },
      },
    });
    this.controllers = new Controllers(this.runtime, path.join(workDir, 'claims'));
  }

  public start(): void {
    this.runtime.start();
    this.controllers.start();
  }

  public async stop(): Promise<void> {
    this.controllers.stop();
    await this.runtime.stop();
  }

  /** Applies a file; returns its Jobs, which start at once. */
  public apply(file: string): JobRun[] {
    log(`apply ${path.basename(file)}`);
    const before = new Set(this.controllers.jobs);
    this.controllers.apply(file);
    return this.controllers.jobs.filter((j) => !before.has(j) && j.file === file);
  }

  /**
   * The replication errors of v9 tablets (`vtctlclient ExecuteFetchAsDba -json <alias> "SHOW SLAVE
   * STATUS"`): for each tablet whose SQL or IO thread does not run, its alias and last error.
   */
  public async replicationErrors(aliases: readonly string[]): Promise<string[]> {
    const errors: string[] = [];
    for (const alias of aliases) {
      const out = await this.inVtctld([...clientPrefix(VitessRelease.V9_0, 'localhost:15999'), 'ExecuteFetchAsDba', '-json', alias, 'SHOW SLAVE STATUS']);
      const result = JSON.parse(out.slice(out.indexOf('{')));
      const names: string[] = result.fields.map((f: { name: string }) => f.name);
      const row: string[] = result.rows?.[0] ?? [];
      const field = (name: string) => String(row[names.indexOf(name)] ?? '');
      if (field('Slave_SQL_Running') !== 'Yes' || field('Slave_IO_Running') !== 'Yes') {
        errors.push(`${alias}: SQL thread ${field('Slave_SQL_Running') || '-'}, IO thread ${field('Slave_IO_Running') || '-'}: ${(field('Last_SQL_Error') || field('Last_IO_Error')).slice(0, 200)}`);
      }
    }
    return errors;
  }

  /**
   * Runs the checks of JobCondition.reparentJournalReplicated, as the Job renders them, in
   * vtctld's pod, and judges each as the Job's script does: which tablets pass, and each one's
   * output.
   */
  public async checkReparentJournal(aliases: readonly string[]): Promise<{ holds: string[]; outputs: Record<string, string> }> {
    const holds: string[] = [];
    const outputs: Record<string, string> = {};
    for (const alias of aliases) {
      const [check] = commandChecks(JobCondition.reparentJournalReplicated('test', [alias])._render(VitessRelease.V9_0));
      const result = await this.execInVtctld([...clientPrefix(VitessRelease.V9_0, 'localhost:15999'), ...check.command]);
      outputs[alias] = result.output.trim().slice(0, 600);
      if (checkHolds(check, result)) holds.push(alias);
    }
    log(`  reparent journal check: ${JSON.stringify(outputs)}`);
    return { holds, outputs };
  }

  /** Applies a file and waits until every Job in it completed; throws with logs when one fails. */
  public async applyAndWait(file: string, during?: (jobs: JobRun[]) => Promise<void>): Promise<JobRun[]> {
    const jobs = this.apply(file);
    const sideTask = during ? during(jobs) : Promise.resolve();
    await this.waitJobs(jobs, path.basename(file));
    await sideTask;
    return jobs;
  }

  /**
   * Waits until the Job has ended, at most until the deadline. A pod that gave up waiting for a
   * precondition (the Job script's 600 s) means the cluster did not get there: the Job's next
   * pods would wait as long again, so that ends the wait too ('GaveUp').
   */
  public async waitJob(job: JobRun, deadline: number): Promise<'Complete' | 'Failed' | 'Timeout' | 'GaveUp'> {
    for (let polls = 0; job.state === 'Active' && Date.now() < deadline && polls < FILE_TIMEOUT_MS / 2000; polls++) {
      if (job.pods.some((p) => p.phase !== 'Running' && /FAILED: gave up after/.test(p.logTail(20)))) return 'GaveUp';
      await Promise.race([job.done, sleep(2000)]);
    }
    return job.state === 'Active' ? 'Timeout' : job.state;
  }

  public async waitJobs(jobs: JobRun[], what: string): Promise<void> {
    const deadline = Date.now() + FILE_TIMEOUT_MS;
    for (const job of jobs) {
      const state = await this.waitJob(job, deadline);
      if (state !== 'Complete') throw this.jobError(what, job, state);
      logJob(job, state);
    }
  }

  /**
   * The error for a Job that did not end as it must, with its log, every pod's state and the
   * Services' ready endpoints (the names the pods resolve), and the daemons' last lines.
   */
  public jobError(what: string, job: JobRun, state: string): Error {
    return new Error(`${what}: Job ${job.name} ${state}\n${this.jobLogs(job)}\n${this.runtime.describe()}\n${this.daemonLogs()}`);
  }

  public jobLogs(job: JobRun): string {
    return job.pods.map((p) => p.logTail(60)).join('\n');
  }

  /** The last lines of every daemon's log (not the Jobs'). */
  public daemonLogs(lines = 15): string {
    return this.runtime.pods
      .filter((p) => !this.controllers.jobs.some((j) => j.pods.includes(p)) && p.phase !== 'Deleted')
      .map((p) => p.logTail(lines))
      .join('\n');
  }

  private async connect(): Promise<mysql.Connection> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const host = this.runtime.endpoints('vtgate-test')[0];
      try {
        if (!host) throw new Error('vtgate-test has no ready endpoint');
        return await mysql.createConnection({ host, port: 3306, user: MYSQL_USER, password: this.password, database: 'test_keyspace', connectTimeout: 5000 });
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`cannot connect to vtgate: ${String(err)}`);
        await sleep(2000);
      }
    }
  }

  /** Writes `count` rows through vtgate, one INSERT each; remembers what it wrote. */
  public async writeRows(count: number, firstPage: number): Promise<void> {
    const conn = await this.connect();
    try {
      for (let i = 0; i < count; i++) {
        const page = BigInt(firstPage + i);
        const message = `message ${page} ${crypto.randomBytes(6).toString('hex')}`;
        await conn.execute('INSERT INTO messages (page, time_created_ns, message) VALUES (?, ?, ?)', [page.toString(), '1', message]);
        this.written.set(page.toString(), message);
      }
    } finally {
      await conn.end();
    }
  }

  /** Writes `count` rows through vtgate in INSERTs of 500 rows; remembers what it wrote. */
  public async writeBulk(count: number, firstPage: number): Promise<void> {
    const conn = await this.connect();
    try {
      for (let start = 0; start < count; start += 500) {
        const rows: [string, string, string][] = [];
        for (let i = start; i < Math.min(count, start + 500); i++) {
          rows.push([String(firstPage + i), '1', `bulk ${firstPage + i} ${crypto.randomBytes(24).toString('hex')}`]);
        }
        await conn.query('INSERT INTO messages (page, time_created_ns, message) VALUES ?', [rows]);
        for (const [page, , message] of rows) this.written.set(page, message);
      }
    } finally {
      await conn.end();
    }
  }

  /**
   * Keeps writing rows (one every 200 ms) until {@link stopWriting}, as an application would:
   * a failed INSERT is retried (up to 20 times, 500 ms apart); a duplicate-key error on a retry
   * means the failed attempt had committed after all. Every row is in {@link written} once an
   * attempt was acknowledged, so that the read-back finds it. Resolves to the rows written.
   */
  public startWriting(firstPage: number): Promise<number> {
    this.writing = true;
    return (async () => {
      let page = firstPage;
      let conn: mysql.Connection | undefined;
      while (this.writing) {
        const message = `during switch ${page}`;
        for (let attempt = 1; ; attempt++) {
          try {
            conn = conn ?? (await this.connect());
            await conn.execute('INSERT INTO messages (page, time_created_ns, message) VALUES (?, ?, ?)', [String(page), '1', message]);
            break;
          } catch (err) {
            const text = String(err);
            if (attempt > 1 && /Duplicate entry/.test(text)) {
              this.writeOutcomes.push(`page ${page}: reported as failed, but it had committed (the retry found it)`);
              break;
            }
            this.writerErrors++;
            this.writeOutcomes.push(`page ${page}, attempt ${attempt}: ${text.slice(0, 160)}`);
            log(`  write of page ${page} failed (attempt ${attempt}): ${text.slice(0, 200)}`);
            await conn?.end().catch(() => undefined);
            conn = undefined;
            if (attempt >= 20) throw new Error(`page ${page}: 20 attempts failed, the last with ${text}`);
            await sleep(500);
          }
        }
        this.written.set(String(page), message);
        page++;
        await sleep(200);
      }
      await conn?.end().catch(() => undefined);
      return page - firstPage;
    })();
  }

  public stopWriting(): void {
    this.writing = false;
  }

  /** Reads every row back through vtgate and checks each on its shard; returns the count read. */
  public async checkRows(shards: readonly string[]): Promise<number> {
    const conn = await this.connect();
    try {
      // Streaming reads: a tablet refuses a non-streaming result of more than 10,000 rows
      // (--queryserver-config-max-result-size).
      await conn.query("SET workload = 'olap'");
      const [rows] = await conn.query('SELECT page, message FROM messages');
      const read = new Map((rows as { page: string | number; message: string }[]).map((r) => [String(r.page), r.message]));
      for (const [page, message] of this.written) {
        assert.strictEqual(read.get(page), message, `row page=${page} written through vtgate is missing or changed`);
      }
      for (const shard of shards) {
        await conn.query(`USE \`test_keyspace:${shard}\``);
        const [shardRows] = await conn.query('SELECT page FROM messages');
        for (const r of shardRows as { page: string | number }[]) {
          const id = hashKeyspaceId(BigInt(r.page));
          assert.ok(shardContains(shard, id), `page ${r.page} (keyspace id ${id.toString('hex')}) is on shard ${shard}, outside its key range`);
        }
        log(`  shard ${shard}: ${(shardRows as unknown[]).length} rows, each in the shard's key range`);
      }
      return read.size;
    } finally {
      await conn.end();
    }
  }

  /** Runs vtctldclient in vtctld's pod (`kubectl exec deploy/vtctld -- ...`); throws when it fails. */
  public vtctldclient(args: readonly string[]): Promise<string> {
    return this.inVtctld(['/vt/bin/vtctldclient', '--server=localhost:15999', ...args]);
  }

  /** Runs a command in vtctld's pod; throws when it fails. */
  public async inVtctld(argv: readonly string[]): Promise<string> {
    const result = await this.execInVtctld(argv);
    if (result.code !== 0) throw new Error(`${argv.join(' ')} failed in vtctld's pod (${result.code}): ${result.output}`);
    return result.output;
  }

  /** Runs a command in vtctld's pod (`kubectl exec deploy/vtctld -- ...`): its exit code and output. */
  public execInVtctld(argv: readonly string[]): Promise<{ code: number; output: string }> {
    const [pod] = this.controllers.podsOf('Deployment', 'vtctld');
    assert.ok(pod, 'vtctld has no pod');
    return this.runtime.exec(pod, 'vtctld', argv, 60);
  }

  /**
   * The rows of `messages` on each shard, read through vtgate with shard targeting. vtgate finds
   * new tablets by reading the topology every `--tablet-refresh-interval`, 1 minute by default
   * (go/vt/discovery/healthcheck.go 96-97, 186 and 395 at v0.24.4), so a shard whose tablets are
   * younger than that may still be unknown to it ("no healthy tablet available"): that error is
   * retried for up to 75 s, and every count is exact.
   */
  public async rowsPerShard(shards: readonly string[]): Promise<Record<string, number>> {
    const deadline = Date.now() + 75_000;
    for (let attempt = 1; ; attempt++) {
      const conn = await this.connect();
      try {
        const counts: Record<string, number> = {};
        for (const shard of shards) {
          await conn.query(`USE \`test_keyspace:${shard}\``);
          const [rows] = await conn.query('SELECT COUNT(*) AS n FROM messages');
          counts[shard] = Number((rows as { n: number }[])[0].n);
        }
        return counts;
      } catch (error) {
        if (!/no healthy tablet available/.test(String(error)) || Date.now() >= deadline || attempt >= 40) throw error;
        log(`  vtgate does not know a tablet of ${shards.join(', ')} yet (attempt ${attempt}): ${String(error).split('\n')[0]}`);
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      } finally {
        await conn.end();
      }
    }
  }

  /** Waits until a Job's current pod has printed `pattern`; bounded. */
  public async waitForLog(jobName: string, pattern: RegExp, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const job = this.controllers.jobs.find((j) => j.name === jobName);
      if (job?.pods.some((p) => pattern.test(p.log('vtctl')))) return true;
      if (job && job.state !== 'Active') return false;
      await sleep(500);
    }
    return false;
  }

  /** Deletes a pod of a workload and waits until its replacement is ready again. */
  public async killPod(kind: 'StatefulSet' | 'Deployment', name: string, why: string): Promise<void> {
    const [pod] = this.controllers.podsOf(kind, name);
    assert.ok(pod, `${kind} ${name} has no pod to delete`);
    log(`  fault: delete pod ${pod.name} (${why})`);
    await this.runtime.deletePod(pod);
    const deadline = Date.now() + 10 * 60_000;
    let replacement: Pod | undefined;
    while (Date.now() < deadline) {
      replacement = this.controllers.podsOf(kind, name)[0];
      if (replacement && replacement !== pod && replacement.ready) break;
      await sleep(1000);
    }
    assert.ok(replacement?.ready, `${kind} ${name}: no ready pod 10 minutes after deleting ${pod.name}`);
    this.faults.push(`${pod.name} deleted ${why}, back as ${replacement!.name}`);
    log(`  fault: ${replacement!.name} ready`);
  }

  /** Runs every Job again (delete and apply); each must see its work done and skip. */
  public async rerunAll(): Promise<{ skipped: number; total: number; notSkipped: string[] }> {
    const names = this.controllers.jobs.map((j) => j.name);
    const notSkipped: string[] = [];
    let skipped = 0;
    for (const name of names) {
      const job = this.controllers.rerunJob(name);
      const state = await Promise.race([job.done, sleep(90_000).then(() => 'Timeout' as const)]);
      const output = job.pods.map((p) => p.log('vtctl')).join('\n');
      if (state === 'Complete' && /already done/.test(output)) {
        skipped++;
      } else {
        notSkipped.push(`${name}: ${state}\n${this.jobLogs(job)}`);
        await this.controllers.abandonJob(job);
      }
    }
    return { skipped, total: names.length, notSkipped };
  }

  public get jobCount(): number {
    return this.controllers.jobs.length;
  }

  public get writeFailures(): number {
    return this.writerErrors;
  }

  public get rowsWritten(): number {
    return this.written.size;
  }

  public get faultsInjected(): readonly string[] {
    return this.faults;
  }

  public deleteFile(file: string): Promise<void> {
    log(`delete -f ${path.basename(file)}`);
    return this.controllers.delete(file);
  }
}

/**
 * Synthesizes the example into `workDir`, models the images one flow's files name (`vitess`, and
 * etcd's), and makes the {@link VitessFlow} that runs them; `file('02-')` finds a file of the flow.
 */
function prepareFlow(
  workDir: string,
  env: Record<string, string>,
  flowDir: 'vreplication' | 'vtworker',
  changes: ExampleChanges,
  vitess: ImageModel & { mysqld: string },
  prefix: string,
): { flow: VitessFlow; vitess: ImageModel & { mysqld: string }; file: (prefix: string) => string } {
  const outdir = path.join(workDir, 'dist');
  for (const app of buildApps(outdir, changes)) app.synth();
  const dir = path.join(outdir, flowDir);
  const files = yamlFiles(dir);
  const named = imagesOf(files);
  assert.ok(named.has(vitess.image), `the files do not name ${vitess.image}: ${[...named].join(', ')}`);
  const images: ImageModel[] = [vitess];
  for (const image of named) {
    if (image.startsWith('quay.io/coreos/etcd:')) images.push(etcdImage(workDir, env.ETCD_BIN_DIR, image));
  }
  const flow = new VitessFlow(workDir, images, `${prefix}${process.pid % 1000}`);
  activeFlow = flow;
  const file = (filePrefix: string) => {
    const f = files.find((x) => path.basename(x).startsWith(filePrefix));
    if (!f) throw new Error(`no file ${filePrefix}* in ${dir}`);
    return f;
  };
  return { flow, vitess, file };
}

/** The flow that is running, for the signal handlers to stop. */
let activeFlow: VitessFlow | undefined;

async function runVReplicationFlow(workDir: string, env: Record<string, string>, release: VitessRelease): Promise<string> {
  const { flow, vitess, file } = prepareFlow(workDir, env, 'vreplication', { modernRelease: release }, vitessImage(env.VITESS_V24_IMAGE_DIR), 'vte');
  const started = Date.now();
  flow.start();
  try {
    await flow.applyAndWait(file('00-'));
    await flow.applyAndWait(file('01-'));
    await flow.applyAndWait(file('02-'));
    await flow.writeRows(ROWS_BEFORE, 1);
    await flow.writeBulk(BULK_ROWS, 1_000_000);
    log(`  ${ROWS_BEFORE} rows written through vtgate one by one, ${BULK_ROWS} more in INSERTs of 500 (so that the copy takes a while)`);
    await flow.applyAndWait(file('10-'), async () => {
      // Fault: vtctld goes while the new shards' Jobs wait for their tablets.
      if (await flow.waitForLog('vtctl-plannedreparentshard-test-keyspace-xx-80', /^waiting for: /m, 120_000)) {
        await flow.killPod('Deployment', 'vtctld', 'while vtctl-plannedreparentshard-test-keyspace-xx-80 waited');
      }
    });
    await flow.applyAndWait(file('11-'), async () => {
      // Fault: a source replica tablet goes while the Reshard workflow is created and copies.
      if (await flow.waitForLog('vtctl-test-keyspace-reshard-create', /^\+ /m, 300_000)) {
        await flow.killPod('StatefulSet', 'vttablet-101', 'while the Reshard workflow was created and copied');
      }
    });
    // The Job said the copy was done: every row must be on the target shards already.
    const copied = await flow.rowsPerShard(['-80', '80-']);
    assert.strictEqual(copied['-80'] + copied['80-'], flow.rowsWritten, `after the copy, -80 and 80- hold ${JSON.stringify(copied)} rows, not the ${flow.rowsWritten} written`);
    log(`  after the copy: -80 holds ${copied['-80']} rows, 80- ${copied['80-']}`);
    await flow.applyAndWait(file('12-'));
    // The Job said the VDiff was clean: read its report ourselves.
    const report = JSON.parse(await flow.vtctldclient(['VDiff', '--workflow=reshard', '--target-keyspace=test_keyspace', 'show', 'last', '--format=json']));
    log(`  VDiff report: ${JSON.stringify(report).slice(0, 300)}`);
    assert.strictEqual(report.State, 'completed', `VDiff state ${report.State}`);
    assert.strictEqual(report.HasMismatch, false, 'VDiff found differences');
    assert.strictEqual(Number(report.RowsCompared), flow.rowsWritten, `VDiff compared ${report.RowsCompared} rows, not the ${flow.rowsWritten} written`);
    await flow.applyAndWait(file('13-'));
    const writer = flow.startWriting(100_000);
    await flow.applyAndWait(file('14-'));
    await sleep(2000);
    flow.stopWriting();
    const duringSwitch = await writer;
    log(`  ${duringSwitch} rows written during SwitchTraffic for the primary, ${flow.writeFailures} failed attempts retried`);
    await flow.applyAndWait(file('15-'));
    await flow.deleteFile(file('01-'));
    await flow.applyAndWait(file('16-'));
    const read = await flow.checkRows(['-80', '80-']);
    const jobs = flow.jobCount;
    const rerun = await flow.rerunAll();
    for (const n of rerun.notSkipped) log(`  not skipped on re-run: ${n.split('\n')[0]}`);
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    const line =
      `vitess e2e: vreplication on Vitess ${release.version} with ${vitess.mysqld}: ${jobs} of ${jobs} Jobs succeeded, ` +
      `${rerun.skipped} of ${rerun.total} skipped on re-run, ${ROWS_BEFORE + BULK_ROWS} rows written before resharding, ${read} read after, VDiff clean` +
      ` (${duringSwitch} rows written during the primary switch, ${flow.writeFailures} failed attempts retried; faults: ${flow.faultsInjected.length}; ${minutes} min)`;
    if (rerun.notSkipped.length > 0) {
      throw new Error(`${line}\nJobs that did not skip on re-run:\n${rerun.notSkipped.join('\n')}`);
    }
    for (const outcome of flow.writeOutcomes) log(`  during the switch: ${outcome}`);
    return line;
  } catch (err) {
    log(String((err as Error).stack ?? err));
    throw err;
  } finally {
    await flow.stop();
  }
}

/**
 * The vtworker flow (Vitess v9.0.0) as far as it can run here: files 00 to 12 (cluster, tablets,
 * init, new shards, CopySchemaShard, SplitClone), with rows written before and counted on the new
 * shards after the clone. Files 13 to 17 are not run: the SplitDiff Job records its result in a
 * ConfigMap and the rdonly migration reads it, through the Kubernetes API, which this runtime has
 * not; the migrations after it wait for that one.
 */
async function runVtworkerFlow(workDir: string, env: Record<string, string>): Promise<string> {
  const { flow, vitess, file } = prepareFlow(workDir, env, 'vtworker', {}, vitessImage(env.VITESS_V9_IMAGE_DIR, 'image-v9'), 'vtw');
  const started = Date.now();
  flow.start();
  try {
    await flow.applyAndWait(file('00-'));
    await flow.applyAndWait(file('01-'));
    const init = flow.apply(file('02-'));
    const aliases = ['test-0000000100', 'test-0000000101', 'test-0000000102', 'test-0000000103', 'test-0000000104'];
    const first = init.filter((j) => /addcellinfo|applyschema/.test(j.name));
    const election = init.find((j) => /initshardmaster/.test(j.name));
    assert.ok(election, '02-init has no InitShardMaster Job');
    const electionState = await flow.waitJob(election, Date.now() + FILE_TIMEOUT_MS);
    if (electionState === 'Timeout' || electionState === 'GaveUp') throw flow.jobError('02-init', election, electionState);
    logJob(election, electionState);
    // Which replicas replicate, from MySQL itself; and the Job's own check of that, run here.
    const replication = await flow.replicationErrors(aliases.slice(1));
    const journal = await flow.checkReparentJournal(aliases);
    // The primary always has the row it wrote: the check's pattern matches real output.
    assert.ok(journal.holds.includes(aliases[0]), `the reparent journal check fails on the primary ${aliases[0]}: ${journal.outputs[aliases[0]]}`);
    for (const alias of aliases.slice(1)) {
      const replicates = !replication.some((e) => e.startsWith(`${alias}:`));
      assert.strictEqual(journal.holds.includes(alias), replicates, `reparent journal check on ${alias}: ${journal.outputs[alias]}; replication: ${replication.join('; ')}`);
    }
    if (replication.length > 0) {
      // InitShardMaster recorded the primary, then failed on the replicas: the Job must refuse to
      // run it again (-force would reset the primary's binary logs) and fail, saying so.
      if (electionState !== 'Failed') throw flow.jobError('02-init (the replicas do not replicate, so the Job must fail)', election, electionState);
      const refusal = election.pods.map((p) => p.log('vtctl')).join('\n');
      assert.match(refusal, /InitReplica failed: .*context deadline exceeded/);
      assert.match(refusal, /FAILED: refusing to act: shard test_keyspace\/0 has a primary, and the work is not done/);
      await flow.waitJobs(first, '02-init');
      const minutes = ((Date.now() - started) / 60_000).toFixed(1);
      return (
        `vitess e2e: vtworker on Vitess ${VitessRelease.V9_0.version} with ${vitess.mysqld}: files 00, 01 and 02's ` +
        `${first.map((j) => j.name).join(', ')} succeeded; ${election.name} failed as it must: InitShardMaster recorded the ` +
        `primary but the replicas do not replicate on this mysqld (${replication[0]}), and the Job refused to run it ` +
        `again; the reparent journal check agreed with MySQL on all ${aliases.length} tablets; nothing after it can run (${minutes} min)`
      );
    }
    if (electionState !== 'Complete') throw flow.jobError('02-init', election, electionState);
    await flow.waitJobs(init, '02-init');
    const run = ['00-', '01-', '02-'];
    await flow.writeRows(ROWS_BEFORE, 1);
    log(`  ${ROWS_BEFORE} rows written through vtgate`);
    for (const prefix of ['10-', '11-', '12-']) {
      await flow.applyAndWait(file(prefix));
      run.push(prefix);
    }
    const copied = await flow.rowsPerShard(['-80', '80-']);
    assert.strictEqual(copied['-80'] + copied['80-'], flow.rowsWritten, `after SplitClone, -80 and 80- hold ${JSON.stringify(copied)} rows, not the ${flow.rowsWritten} written`);
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    return (
      `vitess e2e: vtworker on Vitess ${VitessRelease.V9_0.version} with ${vitess.mysqld}: files ${run.map((p) => p.slice(0, 2)).join(', ')}: ` +
      `${flow.jobCount} of ${flow.jobCount} Jobs succeeded, ${flow.rowsWritten} rows written, ${copied['-80']} + ${copied['80-']} on -80 and 80- after SplitClone; ` +
      `13 to 17 not run (the SplitDiff result ConfigMap needs the Kubernetes API) (${minutes} min)`
    );
  } catch (err) {
    log(String((err as Error).stack ?? err));
    throw err;
  } finally {
    await flow.stop();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('npm run e2e:vitess needs root (network namespaces, mounts, runc)');
  const env = toolPaths();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitess-e2e-'));
  const onSignal = () => {
    log('interrupted: stopping every pod');
    void (activeFlow?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // E2E_VITESS_FLOWS=vreplication (or vtworker) runs one flow only, for the inner loop.
  const flows = (process.env.E2E_VITESS_FLOWS ?? 'vreplication,vtworker').split(',');
  const lines: string[] = [];
  const done = (line: string) => {
    log(line);
    lines.push(line);
  };
  if (flows.includes('vreplication')) done(await runVReplicationFlow(path.join(workDir, 'vreplication'), env, VitessRelease.V24_0));
  if (flows.includes('vtworker')) done(await runVtworkerFlow(path.join(workDir, 'vtworker'), env));
  // One line per flow, last.
  for (const line of lines) process.stdout.write(`${line}\n`);
  if (!process.env.E2E_KEEP) fs.rmSync(workDir, { recursive: true, force: true });
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    process.stderr.write(`vitess e2e: FAILED: ${String(err?.message ?? err).split('\n')[0]}\n`);
    process.exit(1);
  },
);
