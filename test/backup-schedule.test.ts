import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration } from 'cdk8s';
import {
  BackupSchedule,
  BackupScheduleOptions,
  BackupScheduleProps,
  BackupStorage,
  CellTopology,
  GlobalTopology,
  Partitioning,
  TabletPoolType,
  VitessCluster,
  VitessClusterProps,
  VitessRelease,
} from '../lib';
import { checkObject } from '../validation';
import { FakeCluster, JobRun, changingCommands } from './util/fake-cluster';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { ReferenceName, checkInvocations, vitessInvocations } from './util/vitess-reference';
import { findObject, testChart } from './util/synth';

const storage = BackupStorage.nfs({ server: 'nfs.example.internal', path: '/exports/vitess' });

const RELEASES: ReadonlyArray<[VitessRelease, ReferenceName]> = [
  [VitessRelease.V9_0, 'legacy'],
  [VitessRelease.V22_0, 'modern'],
  [VitessRelease.V24_0, 'v24'],
];

/** A BackupSchedule of `ks` (shard 0 unless told) in a chart of its own, and the chart's objects. */
function synth(release: VitessRelease, props: Partial<BackupScheduleProps> = {}): { schedule: BackupSchedule; objects: any[] } {
  const chart = testChart();
  const schedule = new BackupSchedule(chart, 'Backups', {
    vtctld: { release, grpcAddress: 'vtctld:15999' },
    backup: storage,
    name: 'daily',
    keyspace: 'ks',
    shards: ['0'],
    schedule: '0 3 * * *',
    keepCount: 2,
    ...props,
  });
  return { schedule, objects: chart.toJson() };
}

function scriptOf(cronJob: any): string {
  const command: string[] = cronJob.spec.jobTemplate.spec.template.spec.containers[0].command;
  expect(command.slice(0, 2)).toEqual(['/bin/bash', '-c']);
  return command[2];
}

describe('BackupSchedule objects', () => {
  test('a CronJob per shard: name, labels, Forbid, history limits, deadlines, the Job pod of the library', () => {
    // GIVEN
    const { schedule, objects } = synth(VitessRelease.V24_0, { shards: ['-80', '80-'] });

    // THEN one CronJob per shard, named and labelled by schedule, keyspace and shard
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['CronJob/backup-daily-ks-xx-80', 'CronJob/backup-daily-ks-80-xx']);
    expect(schedule.cronJobs.map((c) => [c.shard, c.name, c.schedule])).toEqual([
      ['-80', 'backup-daily-ks-xx-80', '0 3 * * *'],
      ['80-', 'backup-daily-ks-80-xx', '0 3 * * *'],
    ]);
    const cronJob = objects[1];
    expect(cronJob.apiVersion).toBe('batch/v1');
    expect(cronJob.metadata.labels).toEqual({
      'app': 'vitess',
      'app.kubernetes.io/part-of': 'vitess',
      'component': 'backup-schedule',
      'job': 'backup-daily-ks-80-xx',
      'keyspace': 'ks',
      'shard': '80-xx',
    });
    expect(cronJob.spec).toMatchObject({
      schedule: '0 3 * * *',
      concurrencyPolicy: 'Forbid',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
    expect(cronJob.spec.timeZone).toBeUndefined();
    expect(cronJob.spec.startingDeadlineSeconds).toBeUndefined();
    const job = cronJob.spec.jobTemplate;
    expect(job.metadata.labels.job).toBe('backup-daily-ks-80-xx');
    expect(job.spec.activeDeadlineSeconds).toBe(6 * 3600);
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true });
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0];
    expect(c.name).toBe('backup');
    expect(c.image).toBe('vitess/lite:v24.0.4');
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(c.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } });
    // the backup storage, read-only: the Job only looks for MANIFESTs; vtctld deletes
    expect(c.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'backups', mountPath: '/vt/backups', readOnly: true },
    ]);
    expect(pod.volumes).toContainEqual({ name: 'backups', nfs: { server: 'nfs.example.internal', path: '/exports/vitess' } });
  });

  test('its props reach the CronJob: time zone, suspend, starting deadline, history limits, deadline, retries, resources', () => {
    // GIVEN
    const { objects } = synth(VitessRelease.V22_0, {
      timeZone: 'Europe/Berlin',
      suspend: true,
      startingDeadline: Duration.minutes(30),
      successfulJobsHistoryLimit: 0,
      failedJobsHistoryLimit: 10,
      activeDeadline: Duration.hours(2),
      backoffLimit: 1,
      resources: { requests: { cpu: { value: '10m' } as any } },
    });

    // THEN
    const spec = objects[0].spec;
    expect(spec).toMatchObject({
      timeZone: 'Europe/Berlin',
      suspend: true,
      startingDeadlineSeconds: 1800,
      successfulJobsHistoryLimit: 0,
      failedJobsHistoryLimit: 10,
    });
    expect(spec.jobTemplate.spec).toMatchObject({ activeDeadlineSeconds: 7200, backoffLimit: 1 });
  });

  test.each(RELEASES)('the Vitess commands on %s: BackupShard without the primary, the listing, RemoveBackup', (release) => {
    // GIVEN the defaults, and a schedule that allows the primary with a concurrency
    const { schedule, objects } = synth(release);
    const allowed = synth(release, { allowPrimary: true, concurrency: 8 }).schedule;

    // THEN
    const script = scriptOf(objects[0]);
    if (release === VitessRelease.V9_0) {
      expect(schedule.commandLines).toEqual([
        ['/vt/bin/vtctlclient', '-server=vtctld:15999', 'ListBackups', 'ks/0'],
        ['/vt/bin/vtctlclient', '-server=vtctld:15999', 'BackupShard', '-allow_master=false', 'ks/0'],
        ['/vt/bin/vtctlclient', '-server=vtctld:15999', 'RemoveBackup', 'ks/0'],
      ]);
      expect(allowed.commandLines[1]).toEqual(['/vt/bin/vtctlclient', '-server=vtctld:15999', 'BackupShard', '-allow_master', '-concurrency=8', 'ks/0']);
    } else {
      expect(schedule.commandLines).toEqual([
        ['/vt/bin/vtctldclient', '--server=vtctld:15999', 'GetBackups', 'ks/0'],
        ['/vt/bin/vtctldclient', '--server=vtctld:15999', 'BackupShard', '--allow-primary=false', 'ks/0'],
        ['/vt/bin/vtctldclient', '--server=vtctld:15999', 'RemoveBackup', 'ks/0'],
      ]);
      expect(allowed.commandLines[1]).toEqual(['/vt/bin/vtctldclient', '--server=vtctld:15999', 'BackupShard', '--allow-primary', '--concurrency=8', 'ks/0']);
    }
    for (const argv of schedule.commandLines) {
      expect(script).toContain(argv.join(' '));
    }
    // a complete backup is one with its MANIFEST on the storage, as the Job sees it
    expect(script).toContain('backup_dir=/vt/backups/ks/0');
    expect(script).toContain('[ -s "$backup_dir/$1/MANIFEST" ]');
  });

  test.each(RELEASES)('every object is valid Kubernetes, and every Vitess flag and command is known to %s', (release, reference) => {
    // GIVEN two shards, every optional prop set
    const { objects } = synth(release, {
      shards: ['-80', '80-'],
      stagger: Duration.minutes(20),
      timeZone: 'Etc/UTC',
      keepFor: Duration.days(7),
      allowPrimary: true,
      concurrency: 2,
      startingDeadline: Duration.minutes(5),
    });

    // THEN
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(objects, version)).toEqual([]);
    }
    const invocations = vitessInvocations(objects);
    expect(new Set(invocations.map((i) => i.args.find((a) => /^[A-Z]/.test(a))))).toEqual(
      new Set([release === VitessRelease.V9_0 ? 'ListBackups' : 'GetBackups', 'BackupShard', 'RemoveBackup', 'GetShard', 'GetCellInfoNames']),
    );
    expect(checkInvocations(invocations, reference)).toEqual([]);
  });

  test('the reference check and the validation plugin read a CronJob\'s script: a wrong flag there is caught', () => {
    // GIVEN a v24 CronJob whose BackupShard flag is misspelled
    const { objects } = synth(VitessRelease.V24_0);
    const cronJob = JSON.parse(JSON.stringify(objects[0]));
    const command: string[] = cronJob.spec.jobTemplate.spec.template.spec.containers[0].command;
    expect(checkObject(cronJob, 'backups.k8s.yaml')).toEqual([]);
    command[2] = command[2].replace(/--allow-primary=false/g, '--allow-primaryy=false');

    // WHEN both check it THEN both name the flag
    expect(checkInvocations(vitessInvocations([cronJob]), 'v24')).toEqual(
      expect.arrayContaining([expect.stringContaining("unknown BackupShard flag '--allow-primaryy=false'")]),
    );
    const problems = checkObject(cronJob, 'backups.k8s.yaml');
    expect(problems.map((p) => p.rule)).toEqual(['unknown flag --allow-primaryy for vtctldclient BackupShard (Vitess v24.0.4)']);
    expect(JSON.stringify(problems[0])).toContain('/spec/jobTemplate/spec/template/spec/containers/0/command/2');
  });

  test('a long cluster, keyspace and schedule name is shortened to 52 characters with a hash, the same each time', () => {
    // GIVEN
    const long = () =>
      synth(VitessRelease.V22_0, { vtctld: { release: VitessRelease.V22_0, grpcAddress: 'x:15999', clusterName: 'production-eu-west' }, keyspace: 'customer_orders_archive', name: 'every-six-hours' });

    // THEN
    const name = long().objects[0].metadata.name as string;
    expect(name.length).toBeLessThanOrEqual(52);
    expect(name).toMatch(/^production-eu-west-backup-every-six-hours-cust-[0-9a-f]{5}$/);
    expect(long().objects[0].metadata.name).toBe(name);
  });
});

describe('BackupSchedule stagger', () => {
  const schedules = (schedule: string, shards: string[], minutes: number): string[] =>
    synth(VitessRelease.V24_0, { schedule, shards, stagger: Duration.minutes(minutes) }).schedule.cronJobs.map((c) => c.schedule);

  test('spreads the shards over the minutes in their order, into the next hours; the same input gives the same minutes', () => {
    expect(schedules('0 3 * * *', ['-40', '40-80', '80-c0', 'c0-'], 60)).toEqual(['0 3 * * *', '15 3 * * *', '30 3 * * *', '45 3 * * *']);
    expect(schedules('40 1,13 * * 1-5', ['-80', '80-'], 60)).toEqual(['40 1,13 * * 1-5', '10 2,14 * * 1-5']);
    expect(schedules('@daily', ['-55', '55-aa', 'aa-'], 90)).toEqual(['@daily', '30 0 * * *', '0 1 * * *']);
    expect(schedules('0 * * * *', ['-80', '80-'], 60)).toEqual(['0 * * * *', '30 * * * *']);
    expect(schedules('0 3 * * *', ['-80', '80-'], 60)).toEqual(schedules('0 3 * * *', ['-80', '80-'], 60));
  });

  test('fails where a run would leave its day or its hour cannot be moved', () => {
    expect(() => schedules('50 23 * * *', ['-80', '80-'], 30)).toThrow(
      "BackupSchedule: 'stagger' moves a run of '50 23 * * *' by 15 minutes, past midnight, which would change its day; start the schedule earlier or stagger over less time",
    );
    expect(() => schedules('30 * * * *', ['-80', '80-'], 60)).toThrow(
      "BackupSchedule: 'stagger' moves a run of '30 * * * *' by 30 minutes, past the full hour, which needs hours of numbers ('3' or '3,15'), got '*'; make the stagger end before the full hour (at most 30 minutes)",
    );
    expect(() => schedules('*/15 3 * * *', ['-80', '80-'], 10)).toThrow(
      "BackupSchedule: 'stagger' can only spread a schedule whose minute is one number, got '*/15 3 * * *' (minute '*/15')",
    );
  });

  test('fails on a stagger that is not whole minutes, or none', () => {
    expect(() => synth(VitessRelease.V24_0, { stagger: Duration.seconds(90) })).toThrow("BackupSchedule: 'stagger' must be a whole number of minutes, got 1 minute 30 seconds");
    expect(() => synth(VitessRelease.V24_0, { stagger: Duration.minutes(0) })).toThrow("BackupSchedule: 'stagger' must be at least 1 minute, got 0 minutes");
  });
});

describe('BackupSchedule validation', () => {
  const V24 = VitessRelease.V24_0;

  test('takes 5-field expressions with ranges, steps, lists and names, and the descriptors', () => {
    for (const schedule of ['*/15 1-5,22 1,15 jan-jun mon-fri', '0 3 ? * SUN', '5/10 0-23/2 */3 * 0,6', '@hourly', '@annually', '@midnight']) {
      expect(synth(V24, { schedule }).objects[0].spec.schedule).toBe(schedule);
    }
  });

  test.each([
    ['0 3 * * * *', 'it has 6 fields'],
    ['0 3 * *', 'it has 4 fields'],
    ['', 'it has 0 fields'],
    ['@every 1h', "'@every' is not one of the descriptors"],
    ['@reboot', "'@reboot' is not one of the descriptors"],
    ['60 3 * * *', "minute '60' has '60', which is not from 0 to 59"],
    ['0 24 * * *', "hour '24' has '24', which is not from 0 to 23"],
    ['0 3 0 * *', "day of month '0' has '0', which is not from 1 to 31"],
    ['0 3 * * 7', "day of week '7' has '7', which is not from 0 to 6 or sun-sat"],
    ['0 3 * foo *', "month 'foo' has 'foo', which is not from 1 to 12 or jan-dec"],
    ['5-1 3 * * *', "minute '5-1' has the range '5-1', whose start is after its end"],
    ['*/0 3 * * *', "minute '*/0' has a step '0' that is not a whole number of at least 1"],
    ['? 3 * * *', "minute '?' has '?', which is not from 0 to 59"],
    ['1-2-3 3 * * *', "minute '1-2-3' has '1-2-3', which is not '*', a value or a range 'a-b'"],
    ['TZ=UTC 0 3 * * *', 'it has 6 fields'],
  ])('fails on the schedule %j, naming the prop, the value and what is wrong', (schedule, problem) => {
    expect(() => synth(V24, { schedule })).toThrow(`BackupSchedule: 'schedule' must be a cron expression of 5 fields`);
    expect(() => synth(V24, { schedule })).toThrow(`, got '${schedule}': ${problem}`);
  });

  test('fails on a keepCount below 1 or not whole: retention would delete the last backup', () => {
    for (const keepCount of [0, -1, 1.5]) {
      expect(() => synth(V24, { keepCount })).toThrow(
        `BackupSchedule: 'keepCount' must be a whole number of at least 1 (retention keeps at least the newest complete backup), got ${keepCount}`,
      );
    }
  });

  test('fails on a negative keepFor (cdk8s refuses the Duration) or one that is not whole seconds', () => {
    expect(() => synth(V24, { keepFor: Duration.days(-1) })).toThrow('Duration amounts cannot be negative. Received: -1');
    expect(() => synth(V24, { keepFor: Duration.millis(1500) })).toThrow("BackupSchedule: 'keepFor' must be a whole number of seconds, got 1 second 500 millis");
    expect(() => synth(V24, { keepFor: 7 as any })).toThrow("BackupSchedule: 'keepFor' must be a Duration, got 7");
  });

  test('fails on object-store backup storage, where a run cannot read the new backup\'s MANIFEST', () => {
    const s3 = BackupStorage.s3({ bucket: 'vitess-backups', region: 'eu-west-1', credentialsSecret: { secretName: 'backup-s3' } });
    expect(() => synth(V24, { backup: s3 })).toThrow(
      "BackupSchedule: 'backup' must be file backup storage (BackupStorage.nfs or BackupStorage.persistentVolumeClaim), " +
        'whose MANIFEST files a run reads to tell a complete backup from one still written; got s3 storage',
    );
  });

  test('fails on history limits below 0', () => {
    expect(() => synth(V24, { successfulJobsHistoryLimit: -1 })).toThrow("BackupSchedule: 'successfulJobsHistoryLimit' must be a whole number of at least 0, got -1");
    expect(() => synth(V24, { failedJobsHistoryLimit: 1.5 })).toThrow("BackupSchedule: 'failedJobsHistoryLimit' must be a whole number of at least 0, got 1.5");
  });

  test.each(['Local', 'local', '', 'Europe//Berlin', '/UTC', 'Europe/Berlin ', 'America/A_Very_Long_Zone', '-03', 'Europe/..'])(
    'fails on the time zone %j, which is not an IANA name',
    (timeZone) => {
      expect(() => synth(V24, { timeZone })).toThrow(
        `BackupSchedule: 'timeZone' must be an IANA time zone name such as 'Etc/UTC' or 'Europe/Berlin' (components of 1 to 14 letters, digits, '.', '-', '_' or '+' separated by '/'; not 'Local'), got '${timeZone}'`,
      );
    },
  );

  test('takes IANA time zone names', () => {
    for (const timeZone of ['UTC', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires', 'Europe/Berlin']) {
      expect(synth(V24, { timeZone }).objects[0].spec.timeZone).toBe(timeZone);
    }
  });

  test('fails on a bad name, shards, concurrency, starting deadline, active deadline or retries', () => {
    expect(() => synth(V24, { name: 'Daily' })).toThrow("BackupSchedule: 'name' must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit) of at most 20 characters, got 'Daily'");
    expect(() => synth(V24, { shards: [] })).toThrow("BackupSchedule: 'shards' must name at least one shard, got none");
    expect(() => synth(V24, { shards: ['0', '0'] })).toThrow("BackupSchedule: 'shards' must name each shard once, got '0' more than once");
    expect(() => synth(V24, { shards: ['80'] })).toThrow("BackupSchedule: 'shards' must be '0', '-' or a lowercase hex key range");
    expect(() => synth(V24, { keyspace: 'Ks' })).toThrow("BackupSchedule: 'keyspace' must start with a lowercase letter");
    expect(() => synth(V24, { concurrency: 0 })).toThrow("BackupSchedule: 'concurrency' must be a whole number of at least 1, got 0");
    expect(() => synth(V24, { startingDeadline: Duration.seconds(5) })).toThrow(
      "BackupSchedule: 'startingDeadline' must be at least 10 seconds (the CronJob controller looks every 10 s and would miss runs), got 5s",
    );
    expect(() => synth(V24, { activeDeadline: Duration.minutes(10) })).toThrow(
      "BackupSchedule: 'activeDeadline' (600s) must be more than 'waitTimeout' (600s): a run waits for vtctld, then backs up",
    );
    expect(() => synth(V24, { backoffLimit: -1 })).toThrow("BackupSchedule daily ks/0: 'backoffLimit' must be a whole number of at least 0, got -1");
  });

  test('fails when two schedules of an app would make the same CronJob', () => {
    const chart = testChart();
    const props = { vtctld: { release: V24, grpcAddress: 'vtctld:15999' }, backup: storage, name: 'daily', keyspace: 'ks', shards: ['0'], schedule: '0 3 * * *', keepCount: 1 };
    new BackupSchedule(chart, 'A', props);
    expect(() => new BackupSchedule(chart, 'B', props)).toThrow("CronJob 'backup-daily-ks-0' is already created by");
  });
});

/** A backup name `<UTC YYYY-MM-DD.HHMMSS>.<alias>` of `secondsAgo` seconds ago, as Vitess names them. */
function backupName(secondsAgo: number, alias = 'test-0000000101'): string {
  const stamp = new Date(Date.now() - secondsAgo * 1000).toISOString();
  return `${stamp.slice(0, 10)}.${stamp.slice(11, 13)}${stamp.slice(14, 16)}${stamp.slice(17, 19)}.${alias}`;
}

const DAY = 86400;

describe.each([VitessRelease.V9_0, VitessRelease.V24_0])('the backup Job of a shard, run against the simulated Vitess %s', (release) => {
  const primaryType = release.primaryTypeName;
  const client = release === VitessRelease.V9_0 ? 'vtctlclient' : 'vtctldclient';
  const allowFlag = release === VitessRelease.V9_0 ? '-allow_master=false' : '--allow-primary=false';
  let cluster: FakeCluster;

  beforeEach(() => {
    cluster = new FakeCluster();
  });
  afterEach(() => cluster.dispose());

  /** Shard ks/0 with a primary (100), a replica (101) and an rdonly tablet (102), all up. */
  function seedShard(options: { primary?: boolean; serving?: boolean; tabletTypes?: string[] } = {}): void {
    cluster.update((state) => {
      state.cells = ['test'];
      state.keyspaces.ks = { durability: 'semi_sync' };
      const types = options.tabletTypes ?? [primaryType, 'replica', 'rdonly'];
      types.forEach((type, i) => {
        const uid = 100 + i;
        state.tablets[`test-0000000${uid}`] = { alias: `test-0000000${uid}`, cell: 'test', uid, keyspace: 'ks', shard: '0', type, up: true, registered: true };
      });
      state.shards['ks/0'] = {
        keyspace: 'ks',
        name: '0',
        primary: options.primary === false ? null : 'test-0000000100',
        sourceShards: [],
        isMasterServing: options.serving ?? true,
        tables: [],
        frozen: false,
      };
    });
  }

  /** A backup directory of ks/0 of `secondsAgo`, with its MANIFEST when complete. */
  function addBackup(secondsAgo: number, complete = true): string {
    const name = backupName(secondsAgo);
    const dir = path.join(cluster.backupRoot, 'ks', '0', name);
    fs.mkdirSync(dir, { recursive: true });
    if (complete) {
      fs.writeFileSync(path.join(dir, 'MANIFEST'), JSON.stringify({ BackupName: name, BackupMethod: 'builtin' }));
    }
    return name;
  }

  function backups(): string[] {
    const dir = path.join(cluster.backupRoot, 'ks', '0');
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  }

  function run(props: Partial<BackupScheduleProps>, args: string[] = []): JobRun {
    const { objects } = synth(release, props);
    return cluster.runCronJob(findObject(objects, 'CronJob', 'backup-daily-ks-0'), args);
  }

  test('takes a backup of a replica or rdonly tablet and deletes nothing when nothing is beyond the retention', () => {
    // GIVEN two complete backups within keepFor
    seedShard();
    const old = [addBackup(2 * DAY), addBackup(1 * DAY)];

    // WHEN the Job runs
    const result = run({ keepCount: 2, keepFor: Duration.days(7) });

    // THEN it backed up tablet 101 (not the primary), kept everything, and succeeded
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(changingCommands([result])).toEqual([`${client} BackupShard ${allowFlag} ks/0`]);
    const taken = backups().filter((name) => !old.includes(name));
    expect(taken).toHaveLength(1);
    expect(taken[0]).toMatch(/^\d{4}-\d{2}-\d{2}\.\d{6}\.test-0000000101$/);
    expect(fs.existsSync(path.join(cluster.backupRoot, 'ks', '0', taken[0], 'MANIFEST'))).toBe(true);
    expect(backups()).toEqual([...old, ...taken].sort());
    expect(result.stdout).toContain(`new complete backup: ${taken[0]}`);
    expect(result.stdout).toContain('retention: nothing to delete');
  });

  test('deletes, oldest first, the complete backups beyond keepCount and older than keepFor', () => {
    // GIVEN complete backups of 30, 20, 10 and 2 days ago
    seedShard();
    const [d30, d20, d10, d2] = [addBackup(30 * DAY), addBackup(20 * DAY), addBackup(10 * DAY), addBackup(2 * DAY)];

    // WHEN the Job keeps 2 and 15 days
    const result = run({ keepCount: 2, keepFor: Duration.days(15) });

    // THEN the new one and the one of 2 days are the 2 newest, 10 days is within 15 days, 20 and 30 go
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const commands = changingCommands([result]);
    expect(commands.slice(1)).toEqual([`${client} RemoveBackup ks/0 ${d30}`, `${client} RemoveBackup ks/0 ${d20}`]);
    expect(backups().filter((b) => b !== d10 && b !== d2)).toHaveLength(1);
    expect(backups()).toEqual(expect.arrayContaining([d10, d2]));
    expect(backups()).not.toEqual(expect.arrayContaining([d20]));

    // WHEN the retention alone runs with a count of 2 and a day
    const again = run({ keepCount: 2, keepFor: Duration.days(1) }, ['retention']);

    // THEN the newest 2 stay, the one of 2 days by the count: the 10 days old one goes, no backup is taken
    expect({ status: again.status, stderr: again.stderr }).toEqual({ status: 0, stderr: '' });
    expect(changingCommands([again])).toEqual([`${client} RemoveBackup ks/0 ${d10}`]);
    expect(backups()).toHaveLength(2);
    expect(backups()).toContain(d2);
  });

  test('keeps everything when keepFor covers it, whatever keepCount', () => {
    seedShard();
    const all = [addBackup(6 * DAY), addBackup(5 * DAY), addBackup(4 * DAY)];
    const result = run({ keepCount: 1, keepFor: Duration.days(7) }, ['retention']);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(changingCommands([result])).toEqual([]);
    expect(backups()).toEqual(all);
  });

  test('a failed listing deletes nothing and fails the Job, also when the retention runs alone', () => {
    // GIVEN backups beyond the retention, and a storage whose listing fails
    seedShard();
    const all = [addBackup(30 * DAY), addBackup(20 * DAY)];
    cluster.update((state) => {
      state.listBackupsError = 'open /vt/backups/ks/0: input/output error';
    });

    // WHEN the retention runs alone
    const alone = run({ keepCount: 1 }, ['retention']);

    // THEN it fails, says why, and deletes nothing
    expect(alone.status).toBe(1);
    expect(alone.stderr).toContain('open /vt/backups/ks/0: input/output error');
    expect(alone.stderr).toContain('FAILED: deleting no backup of ks/0: the listing failed or could not be read');
    expect(changingCommands([alone])).toEqual([]);

    // WHEN the whole Job runs: the backup is taken all the same, the retention deletes nothing
    const whole = run({ keepCount: 1 });
    expect(whole.status).toBe(1);
    expect(whole.stderr).toContain('FAILED: the listing before the backup failed, so no new backup of ks/0 can be told from the others; deleting nothing');
    expect(changingCommands([whole])).toEqual([`${client} BackupShard ${allowFlag} ks/0`]);
    expect(backups()).toEqual(expect.arrayContaining(all));
    expect(backups()).toHaveLength(3);
  });

  test('a listing with a line that is not a backup name deletes nothing and fails the Job', () => {
    // GIVEN a directory in the shard's backups that Vitess lists but did not write
    seedShard();
    const all = [addBackup(30 * DAY), addBackup(20 * DAY)];
    fs.mkdirSync(path.join(cluster.backupRoot, 'ks', '0', 'lost+found'));

    // WHEN
    const result = run({ keepCount: 1 }, ['retention']);

    // THEN
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("FAILED: cannot read the listing of ks/0: 'lost+found' is not a backup name (<YYYY-MM-DD.HHMMSS>.<tablet alias>)");
    expect(changingCommands([result])).toEqual([]);
    expect(backups()).toEqual([...all, 'lost+found'].sort());
  });

  test('an incomplete newest backup is neither deleted nor counted: the newest complete one stays', () => {
    // GIVEN complete backups of 30 and 20 days ago, and one of an hour ago without a MANIFEST
    seedShard();
    const [d30, d20] = [addBackup(30 * DAY), addBackup(20 * DAY)];
    const running = addBackup(3600, false);

    // WHEN the retention keeps 1, for no time
    const result = run({ keepCount: 1 }, ['retention']);

    // THEN the one of 20 days is the newest complete backup and stays; the incomplete one stays
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(changingCommands([result])).toEqual([`${client} RemoveBackup ks/0 ${d30}`]);
    expect(backups()).toEqual([d20, running]);
    expect(result.stdout).toContain(`keeping ${running}: it has no MANIFEST`);
    expect(result.stdout).toContain(`keeping ${d20}: one of the newest 1 complete backups`);
  });

  test('a failing BackupShard fails the Job and deletes nothing', () => {
    // GIVEN backups beyond the retention, and a backup that aborts (its tablet killed)
    seedShard();
    const all = [addBackup(30 * DAY), addBackup(20 * DAY)];
    cluster.update((state) => {
      state.backupAborts = true;
    });

    // WHEN
    const result = run({ keepCount: 1 });

    // THEN
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('mysqld stopped while copying files');
    expect(result.stderr).toMatch(new RegExp(`FAILED with exit status 1: \\S+/bin/${client} \\S+ BackupShard`));
    expect(changingCommands([result])).toEqual([`${client} BackupShard ${allowFlag} ks/0`]);
    // the old backups and the aborted one's directory stay
    expect(backups()).toEqual(expect.arrayContaining(all));
    expect(backups()).toHaveLength(3);
  });

  test('a BackupShard that succeeds without a complete backup where the Job looks fails the Job and deletes nothing', () => {
    seedShard();
    const all = [addBackup(30 * DAY), addBackup(20 * DAY)];
    cluster.update((state) => {
      state.backupManifestElsewhere = true;
    });
    const result = run({ keepCount: 1 });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('FAILED: BackupShard succeeded, but no new complete backup of ks/0');
    expect(changingCommands([result])).toEqual([`${client} BackupShard ${allowFlag} ks/0`]);
    expect(backups()).toEqual(expect.arrayContaining(all));
  });

  test('never backs up the primary unless allowPrimary: a shard with only its primary fails, then backs it up', () => {
    // GIVEN a shard whose only tablet is its primary, and an old backup
    seedShard({ tabletTypes: [primaryType] });
    const old = addBackup(30 * DAY);

    // WHEN the Job runs without allowPrimary THEN BackupShard finds no tablet, nothing is deleted
    const refused = run({ keepCount: 1 });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('no tablet available for backup');
    expect(backups()).toEqual([old]);

    // WHEN it may back up the primary THEN it does, and the old backup goes
    const allowed = run({ keepCount: 1, allowPrimary: true });
    expect({ status: allowed.status, stderr: allowed.stderr }).toEqual({ status: 0, stderr: '' });
    expect(backups()).toHaveLength(1);
    expect(backups()[0]).toMatch(/\.test-0000000100$/);
  });

  test('does nothing while the shard does not exist, has no primary, or does not serve it', () => {
    // GIVEN no shard at all: the Job succeeds without a backup
    cluster.update((state) => {
      state.cells = ['test'];
    });
    const missing = run({ keepCount: 1 });
    expect({ status: missing.status, stderr: missing.stderr }).toEqual({ status: 0, stderr: '' });
    expect(missing.stdout).toContain('skipping this run (shard ks/0 does not exist or');
    expect(changingCommands([missing])).toEqual([]);

    // GIVEN a shard without a primary, then one that does not serve it
    for (const options of [{ primary: false }, { serving: false }]) {
      seedShard(options);
      addBackup(30 * DAY);
      const skipped = run({ keepCount: 1 });
      expect({ status: skipped.status, stderr: skipped.stderr }).toEqual({ status: 0, stderr: '' });
      expect(skipped.stdout).toContain('skipping this run');
      expect(changingCommands([skipped])).toEqual([]);
    }
    expect(backups()).toHaveLength(1);
  });
});

/** A cluster as the example's VReplication flow (main.ts), with backup schedules, resharded into -80 and 80-. */
function clusterWithSchedules(props: Partial<VitessClusterProps> = {}, schedules: readonly BackupScheduleOptions[] = [DAILY]): { cluster: VitessCluster; files: Map<string, any[]> } {
  const app = new App({ outdir: path.join(os.tmpdir(), 'cdk8s-vitess-test-backup-schedule-never-written') });
  const cluster = new VitessCluster(app, 'Cluster', {
    release: VitessRelease.V22_0,
    globalTopology: GlobalTopology.managed(),
    cells: [{ name: 'test', topology: CellTopology.managed() }],
    backup: storage,
    keyspaces: [
      {
        name: 'test_keyspace',
        uidBase: 100,
        partitionings: [Partitioning.equal(1), Partitioning.keyRanges(['-80', '80-'])],
        schema: { messages: 'CREATE TABLE messages (page BIGINT(20) UNSIGNED, PRIMARY KEY (page)) ENGINE=InnoDB' },
        tabletPools: [
          { cell: 'test', type: TabletPoolType.REPLICA, replicas: 3 },
          { cell: 'test', type: TabletPoolType.RDONLY, replicas: 2 },
        ],
        backupSchedules: schedules,
      },
    ],
    ...props,
  });
  cluster.reshard('test_keyspace', {
    from: ['0'],
    to: ['-80', '80-'],
    vschema: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { messages: { column_vindexes: [{ column: 'page', name: 'hash' }] } } },
  });
  return { cluster, files: new Map(app.charts.map((chart) => [chart.node.id, chart.toJson()])) };
}

const DAILY: BackupScheduleOptions = { name: 'daily', schedule: '0 3 * * *', stagger: Duration.minutes(30), keepCount: 7, keepFor: Duration.days(7) };

describe('VitessCluster backupSchedules', () => {
  test('a file 03-backup-schedules with a CronJob per schedule and shard of every partitioning, each partitioning staggered', () => {
    // GIVEN a daily and an hourly schedule
    const hourly: BackupScheduleOptions = { name: 'hourly', schedule: '@hourly', keepCount: 24, timeZone: 'Etc/UTC' };
    const { cluster, files } = clusterWithSchedules({}, [DAILY, hourly]);

    // THEN the file follows 02-init, before the resharding phases
    const ids = [...files.keys()];
    expect(ids.indexOf('03-backup-schedules')).toBe(ids.indexOf('02-init') + 1);
    expect(cluster.backupSchedulesChart?.node.id).toBe('03-backup-schedules');
    const cronJobs = files.get('03-backup-schedules')!;
    expect(cronJobs.map((o) => `${o.kind}/${o.metadata.name} ${o.spec.schedule}`)).toEqual([
      'CronJob/backup-daily-test-keyspace-0 0 3 * * *',
      'CronJob/backup-daily-test-keyspace-xx-80 0 3 * * *',
      'CronJob/backup-daily-test-keyspace-80-xx 15 3 * * *',
      'CronJob/backup-hourly-test-keyspace-0 @hourly',
      'CronJob/backup-hourly-test-keyspace-xx-80 @hourly',
      'CronJob/backup-hourly-test-keyspace-80-xx @hourly',
    ]);
    expect(cluster.backupSchedules.map((s) => s.cronJobs.map((c) => c.shard))).toEqual([['0'], ['-80', '80-'], ['0'], ['-80', '80-']]);
    // the cluster's vtctld and backup storage
    const script = scriptOf(cronJobs[0]);
    expect(script).toContain('/vt/bin/vtctldclient --server=vtctld:15999 BackupShard --allow-primary=false test_keyspace/0');
    expect(cronJobs[0].spec.jobTemplate.spec.template.spec.volumes).toContainEqual({ name: 'backups', nfs: { server: 'nfs.example.internal', path: '/exports/vitess' } });

    // AND every object of every file is valid, every Vitess flag and command known
    const all = [...files.values()].flat();
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(cronJobs, version)).toEqual([]);
    }
    expect(checkInvocations(vitessInvocations(all), 'modern')).toEqual([]);
  });

  test('a named cluster prefixes the CronJobs and labels them', () => {
    const { files } = clusterWithSchedules({ name: 'blue' });
    const cronJob = files.get('blue-03-backup-schedules')![0];
    expect(cronJob.metadata.name).toBe('blue-backup-daily-test-keyspace-0');
    expect(cronJob.metadata.labels['app.kubernetes.io/instance']).toBe('blue');
    expect(scriptOf(cronJob)).toContain('--server=blue-vtctld:15999');
  });

  test('no file without schedules', () => {
    const { cluster, files } = clusterWithSchedules({}, []);
    expect(files.has('03-backup-schedules')).toBe(false);
    expect(cluster.backupSchedulesChart).toBeUndefined();
    expect(cluster.backupSchedules).toEqual([]);
  });

  test('fails without the backup storage, on a repeated schedule name, and names the prop path of a bad schedule', () => {
    expect(() => clusterWithSchedules({ backup: undefined })).toThrow(
      "VitessCluster: 'keyspaces[0].backupSchedules' of keyspace 'test_keyspace' needs the cluster's 'backup' storage, which is not set",
    );
    expect(() => clusterWithSchedules({}, [DAILY, { ...DAILY, schedule: '0 4 * * *' }])).toThrow(
      "VitessCluster: 'keyspaces[0].backupSchedules[1].name' repeats schedule 'daily' of keyspace 'test_keyspace'",
    );
    expect(() => clusterWithSchedules({}, [DAILY, { name: 'weekly', schedule: '0 3 * * 7', keepCount: 4 }])).toThrow(
      "VitessCluster: 'keyspaces[0].backupSchedules[1]': BackupSchedule: 'schedule' must be a cron expression",
    );
    expect(() => clusterWithSchedules({}, [{ ...DAILY, keepCount: 0 }])).toThrow(
      "VitessCluster: 'keyspaces[0].backupSchedules[0]': BackupSchedule: 'keepCount' must be a whole number of at least 1",
    );
  });

  test('on the simulated Vitess, the schedules follow a resharding: the serving shards are backed up, the others skipped', () => {
    // GIVEN the cluster, initialised
    const { files } = clusterWithSchedules();
    const fake = new FakeCluster(50, 2);
    try {
      const cronJob = (shard: string) => findObject(files.get('03-backup-schedules')!, 'CronJob', `backup-daily-test-keyspace-${shard}`);
      const backedUp = (shards: string[]): string[] => {
        const runs = shards.map((shard) => fake.runCronJob(cronJob(shard)));
        for (const r of runs) {
          expect({ job: r.name, status: r.status, stderr: r.stderr }).toEqual({ job: r.name, status: 0, stderr: '' });
        }
        return changingCommands(runs).map((call) => call.replace(/^vtctldclient BackupShard --allow-primary=false /, ''));
      };
      for (const file of ['01-tablets-test-keyspace-0', '02-init']) {
        for (const r of fake.apply(files.get(file)!)) {
          expect({ job: r.name, status: r.status, stderr: r.stderr }).toEqual({ job: r.name, status: 0, stderr: '' });
        }
      }

      // WHEN the schedules run THEN shard 0 is backed up; the new shards do not exist yet
      expect(backedUp(['0', 'xx-80', '80-xx'])).toEqual(['test_keyspace/0']);

      // WHEN the new shards exist and copy, and serve reads THEN they are not backed up yet
      for (const file of ['10-reshard-new-shards', '11-reshard-create', '12-reshard-vdiff', '13-reshard-switch-reads']) {
        fake.apply(files.get(file)!);
      }
      expect(backedUp(['xx-80', '80-xx'])).toEqual([]);

      // WHEN they serve the primary THEN they are, and the old shard no longer
      fake.apply(files.get('14-reshard-switch-primary')!);
      expect(backedUp(['0', 'xx-80', '80-xx'])).toEqual(['test_keyspace/-80', 'test_keyspace/80-']);

      // WHEN the workflow is complete (shard 0 deleted, re-created by its running tablets, not serving) THEN still not
      fake.apply(files.get('15-reshard-complete')!);
      fake.tick();
      expect(backedUp(['0'])).toEqual([]);
      expect(fs.readdirSync(path.join(fake.backupRoot, 'test_keyspace'))).toEqual(['-80', '0', '80-']);
    } finally {
      fake.dispose();
    }
  });
});
