import { Chart, Testing } from 'cdk8s';

/** A chart in a fresh app, with names exactly as the constructs set them. */
export function testChart(): Chart {
  return new Chart(Testing.app(), 'test', { disableResourceNameHashes: true });
}

/** The synthesized object of a kind and name; fails the test when it is missing. */
export function findObject(objects: any[], kind: string, name: string): any {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) {
    throw new Error(`no ${kind}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  }
  return found;
}

/** The container of a pod-template object by name. */
export function container(obj: any, name: string): any {
  const found = obj.spec.template.spec.containers.find((c: any) => c.name === name);
  if (!found) throw new Error(`no container ${name} in ${obj.kind}/${obj.metadata.name}`);
  return found;
}
