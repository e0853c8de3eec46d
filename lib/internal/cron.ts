// CronJob schedules and time zones: the subset of what Kubernetes takes that the library checks
// and writes, and the staggering of one schedule over several CronJobs. Not part of the public API.
//
// Kubernetes parses `spec.schedule` with robfig/cron v3 `ParseStandard` (pkg/apis/batch/validation/
// validation.go 791-804 at v1.34.4): five fields, or a descriptor (parser.go 365-434 at v3.0.1).

/** One field of a 5-field cron expression: its name, bounds and the names it takes for numbers. */
interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Whether `?` (any) is taken, as `*`. */
  readonly question?: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The fields in order (robfig/cron v3.0.1 spec.go 22-50: the week's days are 0 to 6, Sunday 0). */
const FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 6, names: WEEKDAYS, question: true },
];

/**
 * The descriptors the library takes and their 5-field form (robfig/cron v3.0.1 parser.go 365-422).
 * `@every <duration>` (parser.go 424-431) is left out: it runs at intervals from the controller's
 * start, not at times of day, so it has no minute to stagger and no fixed time to read.
 */
export const CRON_DESCRIPTORS: { readonly [descriptor: string]: string } = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const WHAT_A_SCHEDULE_IS =
  "a cron expression of 5 fields 'minute hour day-of-month month day-of-week' (each '*', a number, a range 'a-b', " +
  "a step '*/n' or 'a-b/n', or a list of them 'a,b'; months and weekdays also by name, weekdays 0-6 from Sunday) " +
  `or one of ${Object.keys(CRON_DESCRIPTORS).join(', ')}`;

/** A number of the field, or one of its names; undefined when it is neither. */
function fieldValue(field: CronField, text: string): number | undefined {
  if (/^[0-9]+$/.test(text)) {
    return Number(text);
  }
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  return index < 0 ? undefined : field.min + index;
}

/** Why one field is not valid, or undefined when it is. */
function fieldProblem(field: CronField, text: string): string | undefined {
  for (const item of text.split(',')) {
    const [range, step, ...more] = item.split('/');
    if (more.length > 0) {
      return `${field.name} '${text}' has more than one '/' in '${item}'`;
    }
    if (step !== undefined && (!/^[0-9]+$/.test(step) || Number(step) < 1)) {
      return `${field.name} '${text}' has a step '${step}' that is not a whole number of at least 1`;
    }
    if (range === '*' || (range === '?' && field.question)) {
      continue;
    }
    const bounds = range.split('-');
    if (bounds.length > 2 || bounds.some((b) => b === '')) {
      return `${field.name} '${text}' has '${item}', which is not '*', a value or a range 'a-b'`;
    }
    const values = bounds.map((b) => fieldValue(field, b));
    const bad = bounds.find((_bound, i) => values[i] === undefined || values[i]! < field.min || values[i]! > field.max);
    if (bad !== undefined) {
      const names = field.names ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : '';
      return `${field.name} '${text}' has '${bad}', which is not from ${field.min} to ${field.max}${names}`;
    }
    if (values.length === 2 && values[0]! > values[1]!) {
      return `${field.name} '${text}' has the range '${range}', whose start is after its end`;
    }
  }
  return undefined;
}

/**
 * Throws unless `schedule` is a 5-field cron expression or one of {@link CRON_DESCRIPTORS}, with
 * an error that names `prop` and the value and says what is wrong.
 */
export function validateCronSchedule(context: string, prop: string, schedule: string): void {
  const fail = (problem: string): never => {
    throw new Error(`${context}: '${prop}' must be ${WHAT_A_SCHEDULE_IS}, got '${schedule}': ${problem}`);
  };
  if (typeof schedule !== 'string') {
    fail('not a string');
  }
  if (schedule.startsWith('@')) {
    if (!(schedule in CRON_DESCRIPTORS)) {
      fail(`'${schedule.split(' ')[0]}' is not one of the descriptors`);
    }
    return;
  }
  const fields = schedule.trim().split(/\s+/);
  if (schedule.trim() === '' || fields.length !== FIELDS.length) {
    fail(`it has ${schedule.trim() === '' ? 0 : fields.length} fields`);
  }
  FIELDS.forEach((field, i) => {
    const problem = fieldProblem(field, fields[i]);
    if (problem !== undefined) {
      fail(problem);
    }
  });
}

/**
 * `schedule` (valid, see {@link validateCronSchedule}) run `offset` minutes later: its minute moved
 * on, and its hours with it past the full hour. Needs a minute of one number, and past the full
 * hour, hours of numbers that stay within the day (the day fields stay as they are). The schedule
 * itself when `offset` is 0. Throws an error naming `prop` otherwise.
 */
export function delayCronSchedule(context: string, prop: string, schedule: string, offset: number): string {
  if (offset === 0) {
    return schedule;
  }
  const fields = (CRON_DESCRIPTORS[schedule] ?? schedule).trim().split(/\s+/);
  const [minute, hour, ...days] = fields;
  if (!/^[0-9]+$/.test(minute)) {
    throw new Error(
      `${context}: '${prop}' can only spread a schedule whose minute is one number, got '${schedule}' (minute '${minute}')`,
    );
  }
  const total = Number(minute) + offset;
  const carry = Math.floor(total / 60);
  if (carry === 0) {
    return [String(total), hour, ...days].join(' ');
  }
  const hours = hour.split(',');
  if (!hours.every((h) => /^[0-9]+$/.test(h))) {
    throw new Error(
      `${context}: '${prop}' moves a run of '${schedule}' by ${offset} minutes, past the full hour, which needs hours of ` +
        `numbers ('3' or '3,15'), got '${hour}'; make the stagger end before the full hour (at most ${60 - Number(minute)} minutes)`,
    );
  }
  const moved = hours.map((h) => Number(h) + carry);
  if (moved.some((h) => h > 23)) {
    throw new Error(
      `${context}: '${prop}' moves a run of '${schedule}' by ${offset} minutes, past midnight, which would change its day; ` +
        'start the schedule earlier or stagger over less time',
    );
  }
  return [String(total % 60), moved.join(','), ...days].join(' ');
}

/** An IANA time zone name component: letters, digits, '.', '-', '_' and '+', 1 to 14 characters. */
const TIME_ZONE_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

/**
 * Throws unless `timeZone` has the form of an IANA time zone name, as Kubernetes checks it before
 * it loads the zone (pkg/apis/batch/validation/validation.go 806-836 at v1.34.4): components of 1
 * to 14 letters, digits, '.', '-', '_' and '+' separated by '/', none '.', '..' or starting with '-',
 * and not `Local`. Whether the zone exists is for the API server to tell (its time zone database).
 */
export function validateTimeZone(context: string, prop: string, timeZone: string): void {
  const parts = typeof timeZone === 'string' ? timeZone.split('/') : [];
  const valid =
    parts.length > 0 &&
    parts.every((part) => TIME_ZONE_PART.test(part) && part !== '.' && part !== '..' && !part.startsWith('-')) &&
    timeZone.toLowerCase() !== 'local';
  if (!valid) {
    throw new Error(
      `${context}: '${prop}' must be an IANA time zone name such as 'Etc/UTC' or 'Europe/Berlin' (components of 1 to 14 ` +
        `letters, digits, '.', '-', '_' or '+' separated by '/'; not 'Local'), got '${String(timeZone)}'`,
    );
  }
}
