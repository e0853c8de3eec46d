// The public API, re-exported from the layers of lib/. Each layer imports only itself and the
// layers before it (test/layering.test.ts): the shared vocabulary in lib/ itself with the private
// helpers of internal/, then the command Jobs (jobs/), the components (constructs/), the
// resharding flows (flows/) and the whole-cluster model (cluster/).
export * from './release';
export * from './key-range';
export * from './workload-options';
export * from './backup-storage';
export * from './interfaces';
export * from './topology-server';
export * from './jobs/job-condition';
export * from './jobs/vtctl-job';
export * from './jobs/vtworker-job';
export * from './jobs/add-cell-info-job';
export * from './jobs/backup-schedule';
export * from './constructs/etcd-cell';
export * from './constructs/vtctld';
export * from './constructs/tablet-shard';
export * from './constructs/vtgate';
export * from './constructs/vtorc';
export * from './constructs/vtadmin';
export * from './flows/vtworker-resharding';
export * from './flows/vreplication-resharding';
export * from './cluster/vitess-cluster';
