// Checks shared by the resharding flows. Not part of the public API.
import type { TabletShard } from '../constructs/tablet-shard';
import { compareShardStarts, validateKeyRangeTiling } from '../internal/names';
import type { VitessRelease } from '../release';

/**
 * Throws unless the source and targets run `release`, the targets are in the source's keyspace and
 * cell, and they cover exactly the source's key range. Returns the target shard names in key-range
 * order.
 */
export function validateReshardingShards(
  context: string,
  release: VitessRelease,
  source: TabletShard,
  targets: readonly TabletShard[],
): string[] {
  for (const shard of [source, ...targets]) {
    if (shard.release !== release) {
      throw new Error(`${context}: shard ${shard.keyspaceShard} runs Vitess ${shard.release.version} but vtctld runs ${release.version}`);
    }
  }
  for (const target of targets) {
    if (target.keyspace !== source.keyspace) {
      throw new Error(`${context}: 'targets' must be in the source's keyspace '${source.keyspace}', got ${target.keyspaceShard}`);
    }
    if (target.cell !== source.cell) {
      throw new Error(
        `${context}: 'targets' must be in the source's cell '${source.cell}', got ${target.keyspaceShard} in cell '${target.cell}'`,
      );
    }
  }
  const names = targets.map((t) => t.shard);
  validateKeyRangeTiling(context, 'targets', source.shard, names);
  return names.sort(compareShardStarts);
}
