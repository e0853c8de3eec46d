export * from './release';
export * from './backup-storage';
export * from './etcd-cell';
export * from './vtctld';
export * from './tablet-shard';
export * from './vtgate';
export * from './job-condition';
export * from './vtctl-job';
