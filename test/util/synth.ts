import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';

/**
 * A chart in a fresh app, with names exactly as the constructs set them. The tests read it with
 * `toJson()` and never write it: the app's outdir is a path that is not created (cdk8s's
 * `Testing.app()` would make a temporary directory per chart and leave it behind).
 */
export function testChart(): Chart {
  return new Chart(new App({ outdir: path.join(os.tmpdir(), 'cdk8s-vitess-test-chart-never-written') }), 'test', { disableResourceNameHashes: true });
}

/** The synthesized object of a kind and name; fails the test when it is missing. */
export function findObject(objects: any[], kind: string, name: string): any {
  // A Job is found by its base name too (baseName): its object name adds a content hash.
  const found = objects.find((o) => o.kind === kind && (o.metadata?.name === name || baseName(o) === name));
  if (!found) {
    throw new Error(`no ${kind}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  }
  return found;
}

/**
 * An object's name as the tests speak of it: a Job's base name (its label `job`; the object name
 * adds a hash of the Job's content, see jobObjectName), any other object's name.
 */
export function baseName(o: any): string {
  return o.kind === 'Job' && o.metadata?.labels?.job !== undefined ? o.metadata.labels.job : o.metadata?.name;
}

/** The container of a pod-template object by name. */
export function container(obj: any, name: string): any {
  const found = obj.spec.template.spec.containers.find((c: any) => c.name === name);
  if (!found) throw new Error(`no container ${name} in ${obj.kind}/${obj.metadata.name}`);
  return found;
}
