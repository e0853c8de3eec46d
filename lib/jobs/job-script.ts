// The bash script and the Job object of command Jobs. Not part of the public API.
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { BackupStorage } from '../backup-storage';
import type { IVtctld, JobPodOptions } from '../interfaces';
import {
  JOB_NAME_MAX_LENGTH,
  claimObjectName,
  clusterJobName,
  clusterLabels,
  clusterObjectName,
  jobObjectName,
  validateDataKey,
  validateObjectName,
} from '../internal/names';
import { APP_LABEL, TMP_MOUNT, TMP_VOLUME } from '../internal/pod';
import { vitessPodTemplate } from '../internal/pod-skeleton';
import { shellCommand, shellQuote } from '../internal/shell';
import type { VitessRelease } from '../release';
import {
  CommandJobOptions,
  ConditionCheck,
  JobCondition,
  JobOutcomeRecord,
  backupStorages,
  commandChecks,
  configMapChecks,
} from './job-condition';

/** How long one check command may take. */
const CHECK_TIMEOUT_SECONDS = 30;
/** The most retries a Job's commands may have. */
const MAX_RETRIES = 20;
/** The pause before a command's first retry; it doubles after each failure. */
const RETRY_FIRST_DELAY_SECONDS = 10;
/** The longest pause between two tries of a command. */
const RETRY_MAX_DELAY_SECONDS = 60;

/** The client binary and its server flag, e.g. `/vt/bin/vtctlclient -server=vtctld:15999`. */
export function clientPrefix(release: VitessRelease, grpcAddress: string): string[] {
  return [`/vt/bin/${release.vtctlClient}`, release.flag('server', grpcAddress)];
}

export interface ScriptOptions {
  readonly client: string[];
  readonly release: VitessRelease;
  readonly waitFor: readonly JobCondition[];
  readonly skipIf?: JobCondition;
  readonly refuseIf?: JobCondition;
  readonly commands: ReadonlyArray<readonly string[]>;
  readonly waitTimeout: number;
  readonly pollInterval: number;
  readonly thenWaitFor?: readonly JobCondition[];
  readonly thenWaitTimeout?: number;
  readonly thenVerify?: readonly JobCondition[];
  /** How often a failed command is tried again; 0 fails at once. */
  readonly retries?: number;
  /**
   * A ConfigMap key in which the Job records its outcome: `running` before its commands,
   * `succeeded` once they all have (a failure leaves `running`).
   */
  readonly recordOutcome?: JobOutcomeRecord;
  /**
   * Bash lines right after the script's own helpers, before any check: functions of a Job whose
   * work is more than its commands, and ways into them (e.g. one phase run alone).
   */
  readonly prelude?: readonly string[];
  /** Bash lines run after the waits and the skip and refuse checks, before the commands. */
  readonly beforeCommands?: readonly string[];
  /** Bash lines run once every command has succeeded, before the waits for their effect. */
  readonly afterCommands?: readonly string[];
  /**
   * The words with which the log tells that the `skipIf` condition holds: `<skipWording>
   * (<condition>): nothing to do`.
   * @default 'already done'
   */
  readonly skipWording?: string;
}

/** Every condition a Job checks: its waits, its skip condition, the effects it waits for, its verifications. */
function everyCondition(options: Pick<ScriptOptions, 'waitFor' | 'skipIf' | 'refuseIf' | 'thenWaitFor' | 'thenVerify'>): JobCondition[] {
  return [
    ...options.waitFor,
    ...(options.skipIf ? [options.skipIf] : []),
    ...(options.refuseIf ? [options.refuseIf] : []),
    ...(options.thenWaitFor ?? []),
    ...(options.thenVerify ?? []),
  ];
}

/** Whether one of the conditions reads a ConfigMap through the Kubernetes API. */
function readsConfigMaps(conditions: readonly JobCondition[], release: VitessRelease): boolean {
  return conditions.some((condition) => configMapChecks(condition._render(release)).length > 0);
}

/** The outcome a Job records once its commands have all succeeded. */
export const OUTCOME_SUCCEEDED = 'succeeded';

/** Where Kubernetes mounts a pod's service account token, CA certificate and namespace. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * A bash function `kube_configmap <GET|PATCH> <name> [<merge patch>]` that calls the Kubernetes API
 * for a ConfigMap of the pod's namespace with curl and the pod's service account token, bounded
 * by curl's own timeout; it fails on any HTTP error.
 */
function kubeConfigMapFunction(): string[] {
  return [
    'kube_configmap() {',
    `  local sa=${SERVICE_ACCOUNT_DIR} host="\${KUBERNETES_SERVICE_HOST:-}"`,
    '  case "$host" in *:*) host="[$host]" ;; esac',
    '  local url="https://$host:${KUBERNETES_SERVICE_PORT:-443}/api/v1/namespaces/$(cat "$sa/namespace")/configmaps/$2"',
    `  local args=(--silent --show-error --fail --max-time ${CHECK_TIMEOUT_SECONDS} --cacert "$sa/ca.crt" -H "Authorization: Bearer $(cat "$sa/token")" -X "$1")`,
    '  if [ "$#" -ge 3 ]; then',
    `    args+=(-H 'Content-Type: application/merge-patch+json' --data "$3")`,
    '  fi',
    '  curl "${args[@]}" "$url"',
    '}',
  ];
}

/**
 * The bash script of a command Job: succeed without acting when the skip condition holds; otherwise
 * wait for each condition (bounded), check the skip condition again, then run the commands in order,
 * failing at the first that fails.
 *
 * Each check command writes its output to a file in a private temporary directory; every attempt
 * at a condition collects the commands it ran and their output in `$checks/last`, which a timeout
 * prints.
 */
export function renderScript(options: ScriptOptions): string {
  const lines: string[] = [
    'set -u',
    'checks=$(mktemp -d)',
    `deadline=$(( $(date +%s) + ${options.waitTimeout} ))`,
    'wait_for() {',
    '  echo "waiting for: $2"',
    '  until : >"$checks/last"; "$1"; do',
    '    if [ "$(date +%s)" -ge "$deadline" ]; then',
    `      echo "FAILED: gave up after ${options.waitTimeout}s waiting for: $2" >&2`,
    '      echo "last output of the checks:" >&2',
    '      cat "$checks/last" >&2',
    '      exit 1',
    '    fi',
    `    sleep ${options.pollInterval}`,
    '  done',
    '  echo "ready: $2"',
    '}',
  ];
  // One bash function per command check and per combination; returns the function's name.
  const renderCheck = (fn: string, check: ConditionCheck): string => {
    if ('all' in check || 'any' in check) {
      const parts = 'all' in check ? check.all : check.any;
      const names = parts.map((part, i) => renderCheck(`${fn}_${i + 1}`, part));
      lines.push(`${fn}() {`);
      lines.push(`  ${names.join('all' in check ? ' && ' : ' || ')}`);
      lines.push('}');
      return fn;
    }
    if ('configMap' in check) {
      lines.push(`${fn}() {`);
      lines.push(`  echo ${shellQuote(`$ GET configmap ${check.configMap}`)} >>"$checks/last"`);
      lines.push(`  kube_configmap GET ${shellQuote(check.configMap)} >"$checks/out" 2>&1`);
      lines.push('  local status=$?');
      lines.push('  cat "$checks/out" >>"$checks/last"');
      lines.push('  [ "$status" -eq 0 ] || return 1');
      lines.push(`  tr -d '[:space:]' <"$checks/out" >"$checks/compact"`);
      lines.push(`  grep -Eq ${shellQuote(`"${check.key.replace(/\./g, '\\.')}":"${check.value.replace(/\./g, '\\.')}"`)} "$checks/compact" || return 1`);
      lines.push('  return 0');
      lines.push('}');
      return fn;
    }
    if ('directory' in check) {
      // A backup is complete once its MANIFEST exists; a directory without one is running or aborted.
      const pattern = `${shellQuote(check.directory)}/*/MANIFEST`;
      lines.push(`${fn}() {`);
      lines.push(`  echo ${shellQuote(`$ ls ${check.directory}/*/MANIFEST`)} >>"$checks/last"`);
      lines.push('  local manifest');
      lines.push(`  for manifest in ${pattern}; do`);
      lines.push('    if [ -f "$manifest" ]; then');
      lines.push('      echo "$manifest" >>"$checks/last"');
      lines.push('      return 0');
      lines.push('    fi');
      lines.push('  done');
      lines.push(`  echo ${shellQuote(`no backup with a MANIFEST in ${check.directory}`)} >>"$checks/last"`);
      lines.push('  return 1');
      lines.push('}');
      return fn;
    }
    const command = shellCommand([...options.client, ...check.command]);
    const file = check.ignoreWhitespace ? '"$checks/compact"' : '"$checks/out"';
    lines.push(`${fn}() {`);
    lines.push(`  echo ${shellQuote(`$ ${command}`)} >>"$checks/last"`);
    lines.push(`  timeout ${CHECK_TIMEOUT_SECONDS} ${command} >"$checks/out" 2>&1`);
    lines.push('  local status=$?');
    lines.push('  cat "$checks/out" >>"$checks/last"');
    lines.push(check.commandFails ? '  [ "$status" -ne 0 ] || return 1' : '  [ "$status" -eq 0 ] || return 1');
    if (check.ignoreWhitespace) {
      lines.push(`  tr -d '[:space:]' <"$checks/out" >${file}`);
    }
    for (const pattern of check.present) {
      lines.push(`  grep -Eq ${shellQuote(pattern)} ${file} || return 1`);
    }
    for (const pattern of check.absent) {
      lines.push(`  if grep -Eq ${shellQuote(pattern)} ${file}; then return 1; fi`);
    }
    lines.push('  return 0');
    lines.push('}');
    return fn;
  };
  const usesKubernetes = options.recordOutcome !== undefined || readsConfigMaps(everyCondition(options), options.release);
  if (usesKubernetes) {
    lines.push(...kubeConfigMapFunction());
  }
  lines.push(...(options.prelude ?? []));
  const record = (outcome: string): void => {
    const outcomeRecord = options.recordOutcome!;
    const patch = JSON.stringify({ data: { [outcomeRecord.key]: outcome } });
    lines.push(`echo ${shellQuote(`recording ${outcomeRecord.key}=${outcome} in ConfigMap ${outcomeRecord.configMap}`)}`);
    lines.push(
      `kube_configmap PATCH ${shellQuote(outcomeRecord.configMap)} ${shellQuote(patch)} >/dev/null || { echo ${shellQuote(`FAILED to record ${outcome} in ConfigMap ${outcomeRecord.configMap}`)} >&2; exit 1; }`,
    );
  };
  const skipIf = options.skipIf;
  if (skipIf) {
    renderCheck('already_done', skipIf._render(options.release));
    lines.push('skip_if_done() {');
    lines.push('  : >"$checks/last"');
    lines.push('  if already_done; then');
    lines.push(`    echo ${shellQuote(`${options.skipWording ?? 'already done'} (${skipIf.description}): nothing to do`)}`);
    lines.push('    exit 0');
    lines.push('  fi');
    lines.push('}');
  }
  const refuseIf = options.refuseIf;
  if (refuseIf) {
    renderCheck('unsafe', refuseIf._render(options.release));
    lines.push('refuse_if_unsafe() {');
    // Right after skip_if_done: the output shows why the work is not done, then why acting is unsafe.
    if (!skipIf) {
      lines.push('  : >"$checks/last"');
    }
    lines.push('  if unsafe; then');
    const notDone = skipIf ? `, and the work is not done (it is when: ${skipIf.description})` : '';
    lines.push(`    echo ${shellQuote(`FAILED: refusing to act: ${refuseIf.description}${notDone}`)} >&2`);
    lines.push('    echo "output of the checks:" >&2');
    lines.push('    cat "$checks/last" >&2');
    lines.push('    exit 1');
    lines.push('  fi');
    lines.push('}');
  }
  const preconditions = options.waitFor.map((condition, i) => {
    const fn = renderCheck(`precondition_${i + 1}`, condition._render(options.release));
    return `wait_for ${fn} ${shellQuote(condition.description)}`;
  });
  // The work may be done already, even when the preconditions no longer hold (a later phase has
  // changed them): check before waiting, and again after, before acting.
  if (skipIf && preconditions.length > 0) {
    lines.push('skip_if_done');
  }
  lines.push(...preconditions);
  if (skipIf) {
    lines.push('skip_if_done');
  }
  if (refuseIf) {
    lines.push('refuse_if_unsafe');
  }
  if (options.recordOutcome) {
    record('running');
  }
  lines.push(...(options.beforeCommands ?? []));
  const retries = options.retries ?? 0;
  for (const command of options.commands) {
    const rendered = shellCommand(command);
    lines.push(`echo ${shellQuote(`+ ${rendered}`)}`);
    if (retries === 0) {
      lines.push(`${rendered} || { status=$?; echo "FAILED with exit status $status:" ${shellQuote(rendered)} >&2; exit 1; }`);
      continue;
    }
    // Tried again after a failure, with a doubling pause; before each new try the work may have
    // been done after all (the failed try did it, or another actor did), which ends the Job.
    lines.push('attempt=1');
    lines.push(`retry_delay=${RETRY_FIRST_DELAY_SECONDS}`);
    lines.push(`until ${rendered}; do`);
    lines.push('  status=$?');
    lines.push(`  if [ "$attempt" -gt ${retries} ]; then`);
    lines.push(`    echo "FAILED with exit status $status after $attempt tries:" ${shellQuote(rendered)} >&2`);
    lines.push('    exit 1');
    lines.push('  fi');
    lines.push('  echo "try $attempt failed with exit status $status; trying again in ${retry_delay}s"');
    lines.push('  sleep "$retry_delay"');
    lines.push(`  retry_delay=$(( retry_delay * 2 > ${RETRY_MAX_DELAY_SECONDS} ? ${RETRY_MAX_DELAY_SECONDS} : retry_delay * 2 ))`);
    lines.push('  attempt=$(( attempt + 1 ))');
    if (skipIf) {
      lines.push('  skip_if_done');
    }
    if (refuseIf) {
      lines.push('  refuse_if_unsafe');
    }
    lines.push(`  echo ${shellQuote(`+ ${rendered}`)}`);
    lines.push('done');
  }
  if (options.recordOutcome) {
    record(OUTCOME_SUCCEEDED);
  }
  lines.push(...(options.afterCommands ?? []));
  (options.thenWaitFor ?? []).forEach((condition, i) => {
    if (i === 0) {
      lines.push(`deadline=$(( $(date +%s) + ${options.thenWaitTimeout} ))`);
    }
    const fn = renderCheck(`effect_${i + 1}`, condition._render(options.release));
    lines.push(`wait_for ${fn} ${shellQuote(condition.description)}`);
  });
  (options.thenVerify ?? []).forEach((condition, i) => {
    const fn = renderCheck(`verify_${i + 1}`, condition._render(options.release));
    lines.push(`: >"$checks/last"`);
    lines.push(`if ! ${fn}; then`);
    lines.push(`  echo ${shellQuote(`FAILED: does not hold: ${condition.description}`)} >&2`);
    lines.push('  echo "output of the checks:" >&2');
    lines.push('  cat "$checks/last" >&2');
    lines.push('  exit 1');
    lines.push('fi');
    lines.push(`echo ${shellQuote(`verified: ${condition.description}`)}`);
  });
  lines.push('echo "done"');
  return lines.join('\n') + '\n';
}

/** What one command Job runs, besides the options every command Job takes. */
export interface CommandJobSpec {
  /** The construct and Job name for error messages, e.g. `VtctlJob vtctl-backup`. */
  readonly context: string;
  readonly jobName: string;
  /** The `component` label and the container name. */
  readonly component: string;
  readonly containerName: string;
  readonly vtctld: IVtctld;
  /** Full argvs, run in order after the waits and the skip check. */
  readonly commands: ReadonlyArray<readonly string[]>;
  readonly backoffLimit: number;
  readonly resources: k8s.ResourceRequirements;
  readonly ports?: k8s.ContainerPort[];
  /** More of the script, for a Job whose work is more than its commands. */
  readonly script?: Pick<ScriptOptions, 'prelude' | 'beforeCommands' | 'afterCommands' | 'skipWording'>;
  /**
   * A backup storage the script reads besides the ones its conditions look into (the same one,
   * if they look into any), mounted read-only.
   */
  readonly backupStorage?: BackupStorage;
  /**
   * The longest object name: the cluster's name and `jobName` are shortened to it with a hash
   * ({@link clusterObjectName}).
   * @default 57 (a Job's base name, to which its object name adds a hash)
   */
  readonly nameMaxLength?: number;
}

/** The Job a command Job spec makes, before it becomes an object: its base name, its labels and its spec. */
export interface CommandJobTemplate {
  /** The base name with the cluster's name first: the label `job`. */
  readonly name: string;
  readonly labels: { [key: string]: string };
  /** The Job's spec, without `ttlSecondsAfterFinished`. */
  readonly spec: k8s.JobSpec;
}

/**
 * Validates the options and renders the script of a command Job: the spec of a Job, or of the Jobs
 * of a CronJob. The caller has validated the Job name and its own commands.
 */
export function commandJobTemplate(spec: CommandJobSpec, options: CommandJobOptions): CommandJobTemplate {
  const release = spec.vtctld.release;
  const waitFor = options.waitFor ?? [JobCondition.vtctldReachable()];
  const thenWaitFor = options.thenWaitFor ?? [];
  const thenVerify = options.thenVerify ?? [];
  for (const condition of everyCondition({ waitFor, skipIf: options.skipIf, refuseIf: options.refuseIf, thenWaitFor, thenVerify })) {
    for (const check of commandChecks(condition._render(release))) {
      release.requireVtctlCommand(check.command[0], spec.context);
    }
  }
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw new Error(`${spec.context}: 'retries' must be a whole number from 0 to ${MAX_RETRIES}, got ${retries}`);
  }
  const conditions = everyCondition({ waitFor, skipIf: options.skipIf, refuseIf: options.refuseIf, thenWaitFor, thenVerify });
  const storages = new Map<string, BackupStorage>();
  const conditionStorages = conditions.flatMap((condition) => backupStorages(condition._render(release)));
  for (const storage of [...conditionStorages, ...(spec.backupStorage ? [spec.backupStorage] : [])]) {
    const other = storages.get(storage.volume!.name);
    if (other && other !== storage) {
      throw new Error(
        `${spec.context}: the conditions look into two different backup storages; a Job can mount one`,
      );
    }
    storages.set(storage.volume!.name, storage);
  }
  if ((readsConfigMaps(conditions, release) || options.recordOutcome) && options.serviceAccountName === undefined) {
    throw new Error(
      `${spec.context}: it reads or writes a ConfigMap through the Kubernetes API, so 'serviceAccountName' must name an ` +
        'account allowed to get the ConfigMaps it reads and patch the one it records its outcome in',
    );
  }
  if (options.serviceAccountName !== undefined) {
    validateObjectName(spec.context, 'serviceAccountName', options.serviceAccountName);
  }
  if (options.recordOutcome) {
    validateObjectName(spec.context, 'recordOutcome.configMap', options.recordOutcome.configMap);
    validateDataKey(spec.context, 'recordOutcome.key', options.recordOutcome.key, 'ConfigMap');
  }
  // Only file storage is looked into (JobCondition.backupComplete): its one volume, read-only.
  const backupMounts = [...storages.values()].map((storage) => ({ ...storage.volumeMount!, readOnly: true }));
  const backupVolumes = [...storages.values()].map((storage) => storage.volume!);
  if (!Number.isInteger(spec.backoffLimit) || spec.backoffLimit < 0) {
    throw new Error(`${spec.context}: 'backoffLimit' must be a whole number of at least 0, got ${spec.backoffLimit}`);
  }
  const waitTimeout = (options.waitTimeout ?? Duration.minutes(10)).toSeconds();
  const pollInterval = (options.pollInterval ?? Duration.seconds(5)).toSeconds();
  if (waitTimeout < pollInterval) {
    throw new Error(
      `${spec.context}: 'waitTimeout' (${waitTimeout}s) must be at least 'pollInterval' (${pollInterval}s)`,
    );
  }
  const script = renderScript({
    client: clientPrefix(release, spec.vtctld.grpcAddress),
    release,
    waitFor,
    skipIf: options.skipIf,
    refuseIf: options.refuseIf,
    commands: spec.commands,
    waitTimeout,
    pollInterval,
    thenWaitFor,
    thenWaitTimeout: (options.thenWaitTimeout ?? Duration.hours(24)).toSeconds(),
    thenVerify,
    retries,
    recordOutcome: options.recordOutcome,
    ...spec.script,
  });

  // The Jobs of a named cluster's vtctld carry its name first, and its instance label.
  const clusterName = spec.vtctld.clusterName;
  const name = clusterObjectName(clusterName, spec.jobName, spec.nameMaxLength ?? JOB_NAME_MAX_LENGTH);
  const labels = { ...APP_LABEL, component: spec.component, job: name, ...clusterLabels(clusterName) };
  const jobSpec: k8s.JobSpec = {
    backoffLimit: spec.backoffLimit,
    template: vitessPodTemplate(spec.context, jobPodOptions(spec.vtctld.jobOptions), {
      labels,
      restartPolicy: 'Never',
      serviceAccountName: options.serviceAccountName,
      containers: [
        {
          name: spec.containerName,
          image: release.image,
          command: ['/bin/bash', '-c', script],
          ports: spec.ports,
          resources: spec.resources,
          volumeMounts: [TMP_MOUNT, ...backupMounts],
        },
      ],
      volumes: [TMP_VOLUME, ...backupVolumes],
    }),
  };
  return { name, labels, spec: jobSpec };
}

/**
 * Validates the options, renders the script and creates the Job (id `Resource`) in `scope`. The
 * caller has validated the Job name and its own commands.
 */
export function createCommandJob(scope: Construct, spec: CommandJobSpec, options: CommandJobOptions): k8s.KubeJob {
  const template = commandJobTemplate(spec, options);
  claimObjectName(scope, spec.context, 'Job', template.name);
  const jobSpec: k8s.JobSpec = {
    backoffLimit: template.spec.backoffLimit,
    ttlSecondsAfterFinished: (options.ttlAfterFinished ?? Duration.days(1)).toSeconds(),
    template: template.spec.template,
  };
  // The label `job` keeps the base name, which stays the same when the Job's content changes.
  return new k8s.KubeJob(scope, 'Resource', {
    metadata: { name: jobObjectName(template.name, jobSpec), labels: template.labels },
    spec: jobSpec,
  });
}

/** The options a Job pod takes from its vtctld: never affinity, which is about vtctld's own pods. */
function jobPodOptions(options: JobPodOptions | undefined): JobPodOptions {
  return {
    nodeSelector: options?.nodeSelector,
    tolerations: options?.tolerations,
    priorityClassName: options?.priorityClassName,
    imagePullSecrets: options?.imagePullSecrets,
    userIds: options?.userIds,
    extraEnv: options?.extraEnv,
    podAnnotations: options?.podAnnotations,
    podLabels: options?.podLabels,
  };
}

/**
 * A service account for a command Job and the one ConfigMap it may use: a Role with `verbs` on
 * that ConfigMap alone (by name; `create` cannot be limited by name, so the ConfigMap must exist)
 * and its RoleBinding, all three named and labelled as the Job `jobName` that talks to `vtctld` is
 * ({@link createCommandJob}: with the name of vtctld's cluster first). Returns the account's name.
 */
export function createConfigMapAccount(
  scope: Construct,
  context: string,
  vtctld: IVtctld,
  jobName: string,
  component: string,
  configMap: string,
  verbs: readonly ('get' | 'patch')[],
): string {
  const name = clusterJobName(vtctld.clusterName, jobName);
  const labels = { ...APP_LABEL, component, job: name, ...clusterLabels(vtctld.clusterName) };
  validateObjectName(context, 'service account name', name);
  claimObjectName(scope, context, 'ServiceAccount', name);
  new k8s.KubeServiceAccount(scope, 'ServiceAccount', { metadata: { name, labels }, automountServiceAccountToken: false });
  new k8s.KubeRole(scope, 'Role', {
    metadata: { name, labels },
    rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [configMap], verbs: [...verbs] }],
  });
  new k8s.KubeRoleBinding(scope, 'RoleBinding', {
    metadata: { name, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name }],
  });
  return name;
}
