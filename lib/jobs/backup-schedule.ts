import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import { BackupStorageImplementation, type BackupStorage } from '../backup-storage';
import type { IVtctld } from '../interfaces';
import { delayCronSchedule, validateCronSchedule, validateTimeZone } from '../internal/cron';
import { claimObjectName, keyspaceObjectName, shardLabel, validateKeyspaceName, validateShardName } from '../internal/names';
import { resources, validateResources } from '../internal/pod';
import { shellCommand, shellQuote } from '../internal/shell';
import { VtctlClient } from '../release';
import { JobCondition } from './job-condition';
import { clientPrefix, commandJobTemplate } from './job-script';

/**
 * The longest CronJob name: the CronJob controller names each Job `<CronJob name>-<minutes since
 * the epoch>`, 11 characters more, within a label's 63 (Kubernetes pkg/apis/batch/validation/
 * validation.go 718-725 at v1.34.4).
 */
const CRONJOB_NAME_MAX_LENGTH = 52;
/** The longest schedule name. */
const SCHEDULE_NAME_MAX_LENGTH = 20;
/** How long one listing of the backups may take. */
const LIST_TIMEOUT_SECONDS = 60;
/**
 * The CronJob controller looks at its CronJobs every 10 seconds: a starting deadline below that
 * can miss runs (Kubernetes documentation, "CronJob", Job creation).
 */
const MIN_STARTING_DEADLINE_SECONDS = 10;

/**
 * A backup's name in file backup storage: `<YYYY-MM-DD.HHMMSS>.<tablet alias>`, the time the
 * backup started, in UTC (go/vt/mysqlctl/backup.go 62-63 and 134 at v0.24.4; the same at v0.22.4
 * and in go/vt/mysqlctl/backupengine.go of v9.0.0). The name is the directory's
 * (go/vt/mysqlctl/filebackupstorage/file.go 184-204 at v0.24.4).
 */
const BACKUP_NAME_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}\\.[0-9]{6}\\.[A-Za-z0-9_]+-[0-9]+$';

/**
 * What a {@link BackupSchedule} does, for shards given elsewhere (a keyspace's
 * `backupSchedules` in {@link VitessCluster}).
 */
export interface BackupScheduleOptions {
  /** The schedule's name (a DNS-1123 label of at most 20 characters), part of each CronJob's name, e.g. `daily`. */
  readonly name: string;
  /**
   * When to back up: a cron expression of 5 fields (`'0 3 * * *'`: daily at 03:00), with ranges,
   * steps, lists and month and weekday names, or one of `@yearly`, `@annually`, `@monthly`,
   * `@weekly`, `@daily`, `@midnight`, `@hourly` (what Kubernetes takes, but `@every`).
   */
  readonly schedule: string;
  /**
   * Spreads the shards' runs over this many minutes, so that they do not all back up at once: the
   * shard at position i of n runs `floor(i * stagger / n)` minutes after `schedule` (the same
   * shards give the same minutes). Needs a schedule whose minute is one number, and, where a run
   * moves past the full hour, hours of numbers that stay within the day.
   * @default - every shard at `schedule`
   */
  readonly stagger?: Duration;
  /**
   * The IANA time zone of `schedule` (the CronJob's `timeZone`), e.g. `Europe/Berlin`.
   * @default - the time zone of the kube-controller-manager
   */
  readonly timeZone?: string;
  /**
   * How many of the newest complete backups of a shard retention keeps, at least 1: it never
   * deletes the newest complete backup.
   */
  readonly keepCount: number;
  /**
   * How long retention keeps every backup, complete or not, whatever `keepCount`: a backup older
   * than this (by the time in its name, when it started) and beyond the newest `keepCount` complete
   * ones is deleted.
   * @default - none: `keepCount` alone decides
   */
  readonly keepFor?: Duration;
  /**
   * Whether BackupShard may back up the primary when no replica, rdonly or spare tablet can
   * (`--allow-primary`; v9: `-allow_master`). The builtin backup engine stops mysqld on the tablet
   * it backs up: on the primary, writes stop for the whole backup.
   * @default false
   */
  readonly allowPrimary?: boolean;
  /**
   * The number of compression and checksum jobs of a backup (`--concurrency`).
   * @default - Vitess's default, 4
   */
  readonly concurrency?: number;
  /**
   * Whether the CronJobs are suspended: they start no run until this is false again.
   * @default false
   */
  readonly suspend?: boolean;
  /**
   * How late a missed run may still start (`startingDeadlineSeconds`), at least 10 seconds.
   * @default - no limit: a missed run starts when the controller notices it
   */
  readonly startingDeadline?: Duration;
  /**
   * How many finished successful Jobs each CronJob keeps.
   * @default 3
   */
  readonly successfulJobsHistoryLimit?: number;
  /**
   * How many failed Jobs (and their pods, with their logs) each CronJob keeps.
   * @default 3
   */
  readonly failedJobsHistoryLimit?: number;
  /**
   * How long one run may take, the wait for vtctld, the backup and the retention together (the
   * Job's `activeDeadlineSeconds`), after which Kubernetes stops it; more than `waitTimeout`.
   * @default Duration.hours(6)
   */
  readonly activeDeadline?: Duration;
  /**
   * How many times a failed pod of a run is tried again. Each try takes a whole backup again.
   * @default 0 (a failed run waits for the next one)
   */
  readonly backoffLimit?: number;
  /**
   * How long a run waits for vtctld to answer before it fails.
   * @default Duration.minutes(10)
   */
  readonly waitTimeout?: Duration;
  /**
   * The container's resources.
   * @default - requests 50m CPU and 64Mi memory, memory limit 256Mi
   */
  readonly resources?: k8s.ResourceRequirements;
}

/**
 * Props of {@link BackupSchedule}.
 */
export interface BackupScheduleProps extends BackupScheduleOptions {
  /** The vtctld that takes and removes the backups; the Jobs run its release's image and client. */
  readonly vtctld: IVtctld;
  /**
   * The cluster's backup storage, the one vtctld and the tablets use: the Jobs mount it read-only to
   * tell complete backups (with their `MANIFEST`) from the others.
   */
  readonly backup: BackupStorage;
  /** The keyspace. */
  readonly keyspace: string;
  /** The shards, one CronJob each; with `stagger`, their runs are spread in this order. */
  readonly shards: readonly string[];
}

/** One shard's CronJob of a {@link BackupSchedule}. */
export interface ShardBackupCronJob {
  /** The shard. */
  readonly shard: string;
  /** The CronJob's name, also the label `job` of its Jobs and pods. */
  readonly name: string;
  /** Its schedule, `schedule` moved by the shard's share of `stagger`. */
  readonly schedule: string;
  /** The CronJob. */
  readonly cronJob: k8s.KubeCronJob;
}

/**
 * Scheduled backups of a keyspace's shards with retention: per shard a CronJob
 * `backup-<name>-<keyspace>-<shard>` (with the cluster's name first, shortened with a hash beyond
 * 52 characters) whose Jobs
 *
 * 1. do nothing when the shard does not exist, has no primary or does not serve its primary (not
 *    yet created, resharded away, or a resharding target before its switch), and otherwise wait
 *    (bounded) until vtctld answers;
 * 2. list the shard's backups, then take one with `BackupShard <keyspace>/<shard>`, which backs up
 *    the most up-to-date replica, rdonly or spare tablet and never the primary unless
 *    `allowPrimary` (v24.0.4 go/vt/vtctl/grpcvtctldserver/server.go 460-534; v9.0.0
 *    go/vt/vtctl/backup.go 86-150); a failed BackupShard fails the Job, which deletes nothing;
 * 3. list the backups again and check that one new backup is complete: its directory in the backup
 *    storage holds its `MANIFEST`, which every backup engine writes last and a restore needs
 *    (v24.0.4 go/vt/mysqlctl/builtinbackupengine.go 990-1065, xtrabackupengine.go 230-300,
 *    backupengine.go 516-536: a restore skips a backup whose MANIFEST it cannot read); otherwise the
 *    Job fails and deletes nothing;
 * 4. apply the retention: of the complete backups, keep the newest `keepCount` and every one
 *    taken within `keepFor`, and delete the others, oldest first, with `RemoveBackup <keyspace>/<shard>
 *    <name>`. A backup without a `MANIFEST` is never deleted nor counted: file backup storage
 *    creates the directory when a backup starts (file.go 184-204), so it may be running; a backup
 *    that fails is removed by Vitess itself (backup.go 181-200, file.go 120-126), so one left over
 *    is from a killed tablet, to remove by hand. When a listing fails or holds a line that is not a
 *    backup name, nothing is deleted and the Job fails.
 *
 * The backup's status cannot come from Vitess: `GetBackups` gives each backup's name and, parsed
 * from it, its time and tablet, and leaves `status` UNKNOWN and `engine` empty
 * (go/vt/vtctl/grpcvtctldserver/server.go 1508-1580 at v0.24.4, 1502-1570 at v0.22.4;
 * go/vt/mysqlctl/mysqlctlproto/backup.go 27-46 at both), so the Jobs read the plain listing, one name per line
 * (go/cmd/vtctldclient/command/backups.go 213-248; v9.0.0 `ListBackups`, go/vt/vtctl/backup.go
 * 172-199), and look for the `MANIFEST` themselves. `RemoveBackup` deletes the backup's directory
 * (go/vt/mysqlctl/filebackupstorage/file.go 206-213 at v0.24.4).
 *
 * The retention alone runs with the script's argument `retention`
 * (`bash -c "$script" bash retention`), e.g. to apply a new `keepCount` at once.
 *
 * The CronJobs forbid concurrent runs (`concurrencyPolicy: Forbid`): a run that lasts past the next
 * time skips that one. Their Jobs' pods are the library's command Job pods (the vtctld's
 * `jobOptions`, the `vitess` user, no service account token), with the backup storage mounted
 * read-only.
 */
export class BackupSchedule extends Construct {
  /** Each shard's CronJob, in the order of `shards`. */
  public readonly cronJobs: readonly ShardBackupCronJob[];
  /**
   * The argv of each Vitess command of the first shard's Jobs: the listing, BackupShard and
   * RemoveBackup (whose last argument, the backup's name, the Job adds).
   */
  public readonly commandLines: readonly string[][];

  public constructor(scope: Construct, id: string, props: BackupScheduleProps) {
    super(scope, id);
    const context = 'BackupSchedule';
    const release = props.vtctld.release;
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(props.name) || props.name.length > SCHEDULE_NAME_MAX_LENGTH) {
      throw new Error(
        `${context}: 'name' must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit) ` +
          `of at most ${SCHEDULE_NAME_MAX_LENGTH} characters, got '${props.name}'`,
      );
    }
    validateKeyspaceName(context, 'keyspace', props.keyspace);
    if (props.backup.implementation !== BackupStorageImplementation.FILE || props.backup.volume === undefined) {
      // A run is complete only when the new backup's MANIFEST is in the storage, which the Job
      // reads in the file volume; GetBackups does not tell (its status is UNKNOWN for every backup).
      throw new Error(
        `${context}: 'backup' must be file backup storage (BackupStorage.nfs or BackupStorage.persistentVolumeClaim), ` +
          `whose MANIFEST files a run reads to tell a complete backup from one still written; got ${props.backup.implementation} storage`,
      );
    }
    if (!Array.isArray(props.shards) || props.shards.length === 0) {
      throw new Error(`${context}: 'shards' must name at least one shard, got none`);
    }
    for (const shard of props.shards) {
      validateShardName(context, 'shards', shard);
      if (props.shards.indexOf(shard) !== props.shards.lastIndexOf(shard)) {
        throw new Error(`${context}: 'shards' must name each shard once, got '${shard}' more than once`);
      }
    }
    validateCronSchedule(context, 'schedule', props.schedule);
    if (props.timeZone !== undefined) {
      validateTimeZone(context, 'timeZone', props.timeZone);
    }
    if (!Number.isInteger(props.keepCount) || props.keepCount < 1) {
      throw new Error(
        `${context}: 'keepCount' must be a whole number of at least 1 (retention keeps at least the newest complete backup), got ${props.keepCount}`,
      );
    }
    const keepFor = props.keepFor === undefined ? 0 : wholeSeconds(context, 'keepFor', props.keepFor);
    const stagger = props.stagger === undefined ? 0 : wholeMinutes(context, 'stagger', props.stagger);
    if (props.stagger !== undefined && stagger < 1) {
      throw new Error(`${context}: 'stagger' must be at least 1 minute, got ${props.stagger.toHumanString()}`);
    }
    for (const key of ['successfulJobsHistoryLimit', 'failedJobsHistoryLimit'] as const) {
      const value = props[key];
      if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
        throw new Error(`${context}: '${key}' must be a whole number of at least 0, got ${value}`);
      }
    }
    if (props.concurrency !== undefined && (!Number.isInteger(props.concurrency) || props.concurrency < 1)) {
      throw new Error(`${context}: 'concurrency' must be a whole number of at least 1, got ${props.concurrency}`);
    }
    const startingDeadline = props.startingDeadline === undefined ? undefined : wholeSeconds(context, 'startingDeadline', props.startingDeadline);
    if (startingDeadline !== undefined && startingDeadline < MIN_STARTING_DEADLINE_SECONDS) {
      throw new Error(
        `${context}: 'startingDeadline' must be at least ${MIN_STARTING_DEADLINE_SECONDS} seconds (the CronJob controller looks every 10 s and would miss runs), got ${startingDeadline}s`,
      );
    }
    const waitTimeout = wholeSeconds(context, 'waitTimeout', props.waitTimeout ?? Duration.minutes(10));
    const activeDeadline = wholeSeconds(context, 'activeDeadline', props.activeDeadline ?? Duration.hours(6));
    if (activeDeadline <= waitTimeout) {
      throw new Error(
        `${context}: 'activeDeadline' (${activeDeadline}s) must be more than 'waitTimeout' (${waitTimeout}s): a run waits for vtctld, then backs up`,
      );
    }
    validateResources(context, 'resources', props.resources);

    const modern = release.vtctlClient === VtctlClient.VTCTLDCLIENT;
    const listName = modern ? 'GetBackups' : 'ListBackups';
    for (const command of [listName, 'BackupShard', 'RemoveBackup']) {
      release.requireVtctlCommand(command, context);
    }
    const client = clientPrefix(release, props.vtctld.grpcAddress);
    const backupFlags = [
      release.commandFlag(`allow_${release.primaryTypeName}`, props.allowPrimary ?? false),
      ...(props.concurrency !== undefined ? [release.commandFlag('concurrency', props.concurrency)] : []),
    ];

    const commandsOf = (keyspaceShard: string) => ({
      list: [...client, listName, keyspaceShard],
      backup: [...client, 'BackupShard', ...backupFlags, keyspaceShard],
      remove: [...client, 'RemoveBackup', keyspaceShard],
    });
    const first = commandsOf(`${props.keyspace}/${props.shards[0]}`);
    this.commandLines = [first.list, first.backup, first.remove];

    const cronJobs: ShardBackupCronJob[] = [];
    props.shards.forEach((shard, i) => {
      const keyspaceShard = `${props.keyspace}/${shard}`;
      const { list, backup, remove } = commandsOf(keyspaceShard);
      const schedule = delayCronSchedule(context, 'stagger', props.schedule, Math.floor((i * stagger) / props.shards.length));
      const shardScope = new Construct(this, `Shard${shard}`);
      const template = commandJobTemplate(
        {
          context: `${context} ${props.name} ${keyspaceShard}`,
          jobName: `backup-${props.name}-${keyspaceObjectName(props.keyspace)}-${shardLabel(shard)}`,
          nameMaxLength: CRONJOB_NAME_MAX_LENGTH,
          component: 'backup-schedule',
          containerName: 'backup',
          vtctld: props.vtctld,
          commands: [backup],
          backoffLimit: props.backoffLimit ?? 0,
          resources: props.resources ?? resources('50m', '64Mi', '256Mi'),
          backupStorage: props.backup,
          script: {
            prelude: retentionFunctions({
              list: shellCommand(list),
              remove: shellCommand(remove),
              keyspaceShard,
              directory: `${props.backup.mountPath}/${keyspaceShard}`,
              keepCount: props.keepCount,
              keepFor,
            }),
            beforeCommands: [
              'listed_before=no',
              'if list_backups "$checks/before"; then',
              '  listed_before=yes',
              'else',
              '  echo "taking the backup all the same; the retention will delete nothing"',
              'fi',
            ],
            afterCommands: ['verify_new_backup || exit 1', 'apply_retention || exit 1'],
            skipWording: 'skipping this run',
          },
        },
        {
          waitFor: [JobCondition.vtctldReachable()],
          skipIf: JobCondition.anyOf(
            JobCondition.shardDeleted(props.keyspace, shard),
            JobCondition.custom({
              description: `shard ${keyspaceShard} has no ${release.primaryTypeName}`,
              command: ['GetShard', keyspaceShard],
              absent: [`"${release.primaryTypeName}_alias":\\{`],
              ignoreWhitespace: true,
            }),
            JobCondition.custom({
              description: `shard ${keyspaceShard} does not serve its ${release.primaryTypeName}`,
              command: ['GetShard', keyspaceShard],
              absent: [`"is_${release.primaryTypeName}_serving":true`],
              ignoreWhitespace: true,
            }),
          ),
          waitTimeout: props.waitTimeout,
        },
      );
      claimObjectName(shardScope, context, 'CronJob', template.name);
      const cronJob = new k8s.KubeCronJob(shardScope, 'Resource', {
        metadata: { name: template.name, labels: { ...template.labels, keyspace: props.keyspace, shard: shardLabel(shard) } },
        spec: {
          schedule,
          timeZone: props.timeZone,
          concurrencyPolicy: 'Forbid',
          suspend: props.suspend ?? false,
          startingDeadlineSeconds: startingDeadline,
          successfulJobsHistoryLimit: props.successfulJobsHistoryLimit ?? 3,
          failedJobsHistoryLimit: props.failedJobsHistoryLimit ?? 3,
          jobTemplate: {
            metadata: { labels: template.labels },
            spec: { activeDeadlineSeconds: activeDeadline, ...template.spec },
          },
        },
      });
      cronJobs.push({ shard, name: template.name, schedule, cronJob });
    });
    this.cronJobs = cronJobs;
  }
}

/** What the retention functions of one shard's script need. */
interface RetentionOptions {
  /** The listing command, rendered. */
  readonly list: string;
  /** `RemoveBackup <keyspace>/<shard>`, rendered; the backup's name follows. */
  readonly remove: string;
  readonly keyspaceShard: string;
  /** The shard's backups' directory as the Job sees it. */
  readonly directory: string;
  readonly keepCount: number;
  /** In seconds. */
  readonly keepFor: number;
}

/**
 * The bash functions of a shard's backup Job, and its way in to run the retention alone:
 * - `list_backups <file>`: the backups' names, sorted, into the file; fails, saying why, when the
 *   listing fails or has a line that is not a backup name;
 * - `backup_complete <name>`: the backup's directory holds a non-empty `MANIFEST`;
 * - `apply_retention`: deletes the complete backups beyond the newest `keepCount` and older than
 *   `keepFor`, oldest first; fails without deleting when the listing does;
 * - `verify_new_backup`: a backup listed now and not in `$checks/before` is complete.
 */
function retentionFunctions(options: RetentionOptions): string[] {
  const shard = options.keyspaceShard;
  return [
    // Byte order for sort, comm and [[ < ]], whatever the image's locale.
    'export LC_ALL=C',
    `backup_dir=${shellQuote(options.directory)}`,
    `keep_count=${options.keepCount}`,
    `keep_for_seconds=${options.keepFor}`,
    `backup_name=${shellQuote(BACKUP_NAME_PATTERN)}`,
    'list_backups() {',
    `  echo ${shellQuote(`listing the backups of ${shard}`)}`,
    `  timeout ${LIST_TIMEOUT_SECONDS} ${options.list} >"$checks/listing" 2>"$checks/listing-errors"`,
    '  local status=$?',
    '  if [ "$status" -ne 0 ]; then',
    `    echo "FAILED: listing the backups of ${shard} exited with status $status:" >&2`,
    '    cat "$checks/listing-errors" >&2',
    '    return 1',
    '  fi',
    '  : >"$1"',
    '  local line',
    '  while IFS= read -r line || [ -n "$line" ]; do',
    '    if [ -z "$line" ]; then',
    '      continue',
    '    fi',
    '    if ! [[ "$line" =~ $backup_name ]]; then',
    `      echo "FAILED: cannot read the listing of ${shard}: '$line' is not a backup name (<YYYY-MM-DD.HHMMSS>.<tablet alias>)" >&2`,
    '      return 1',
    '    fi',
    `    printf '%s\\n' "$line" >>"$1"`,
    '  done <"$checks/listing"',
    '  sort -o "$1" "$1"',
    '}',
    'backup_complete() {',
    '  [ -s "$backup_dir/$1/MANIFEST" ]',
    '}',
    'apply_retention() {',
    '  if ! list_backups "$checks/retained"; then',
    `    echo ${shellQuote(`FAILED: deleting no backup of ${shard}: the listing failed or could not be read`)} >&2`,
    '    return 1',
    '  fi',
    '  local now cutoff',
    '  if ! now=$(date -u +%s) || ! cutoff=$(date -u -d "@$(( now - keep_for_seconds ))" +%Y-%m-%d.%H%M%S); then',
    `    echo ${shellQuote(`FAILED: deleting no backup of ${shard}: cannot compute the oldest time to keep`)} >&2`,
    '    return 1',
    '  fi',
    '  echo "retention: keeping the newest $keep_count complete backups and every backup taken at or after $cutoff (UTC)"',
    '  local name complete=0',
    '  local expired=()',
    '  while IFS= read -r name; do',
    '    if ! backup_complete "$name"; then',
    '      echo "keeping $name: it has no MANIFEST (it is running, or was aborted: remove an aborted one by hand)"',
    '      continue',
    '    fi',
    '    complete=$(( complete + 1 ))',
    '    if [ "$complete" -le "$keep_count" ]; then',
    '      echo "keeping $name: one of the newest $keep_count complete backups"',
    '    elif [[ ! "${name%.*}" < "$cutoff" ]]; then',
    '      echo "keeping $name: taken at or after $cutoff"',
    '    else',
    '      expired+=("$name")',
    '    fi',
    '  done < <(sort -r "$checks/retained")',
    '  if [ "${#expired[@]}" -eq 0 ]; then',
    '    echo "retention: nothing to delete"',
    '    return 0',
    '  fi',
    '  local i',
    '  for (( i = ${#expired[@]} - 1; i >= 0; i-- )); do',
    `    echo ${shellQuote(`+ ${options.remove}`)} "\${expired[i]}"`,
    `    if ! ${options.remove} "\${expired[i]}"; then`,
    `      echo "FAILED: RemoveBackup ${shard} \${expired[i]} failed; the older backups are deleted, the newer ones kept" >&2`,
    '      return 1',
    '    fi',
    '  done',
    '  echo "retention: deleted ${#expired[@]} backups"',
    '}',
    'verify_new_backup() {',
    '  if [ "$listed_before" != yes ]; then',
    `    echo ${shellQuote(`FAILED: the listing before the backup failed, so no new backup of ${shard} can be told from the others; deleting nothing`)} >&2`,
    '    return 1',
    '  fi',
    '  if ! list_backups "$checks/after"; then',
    `    echo ${shellQuote(`FAILED: deleting no backup of ${shard}: the listing after the backup failed or could not be read`)} >&2`,
    '    return 1',
    '  fi',
    "  local name new=''",
    '  while IFS= read -r name; do',
    '    if backup_complete "$name"; then',
    '      new=$name',
    '    fi',
    '  done < <(comm -13 "$checks/before" "$checks/after")',
    '  if [ -z "$new" ]; then',
    `    echo "FAILED: BackupShard succeeded, but no new complete backup of ${shard} (a directory with its MANIFEST in $backup_dir) is listed; deleting nothing" >&2`,
    '    return 1',
    '  fi',
    '  echo "new complete backup: $new"',
    '}',
    'if [ "${1:-}" = retention ]; then',
    '  apply_retention',
    '  exit $?',
    'fi',
  ];
}

/** The duration in whole seconds, or an error naming the prop. */
function wholeSeconds(context: string, prop: string, duration: Duration): number {
  if (!(duration instanceof Duration)) {
    throw new Error(`${context}: '${prop}' must be a Duration, got ${JSON.stringify(duration)}`);
  }
  try {
    return duration.toSeconds();
  } catch {
    throw new Error(`${context}: '${prop}' must be a whole number of seconds, got ${duration.toHumanString()}`);
  }
}

/** The duration in whole minutes, or an error naming the prop. */
function wholeMinutes(context: string, prop: string, duration: Duration): number {
  const seconds = wholeSeconds(context, prop, duration);
  if (seconds % 60 !== 0) {
    throw new Error(`${context}: '${prop}' must be a whole number of minutes, got ${duration.toHumanString()}`);
  }
  return seconds / 60;
}
