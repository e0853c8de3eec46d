// Types of index.js, for the tests (TypeScript reads this file instead of the JavaScript).
import type { ValidationContext, ValidationViolation } from 'cdk8s-cli/lib/plugins/validation';

/** One problem of one object. */
export interface Problem {
  /** The object as `<kind>/<metadata.name>`. */
  readonly resource: string;
  /** The file the object is in. */
  readonly manifestPath: string;
  /** The JSON pointer of the offending value (and the script line of a Job script). */
  readonly location: string;
  /** What is wrong, e.g. `unknown flag --foo for vttablet (Vitess v22.0.3)`. */
  readonly rule: string;
  /** What is allowed. */
  readonly recommendation: string;
  /** How to fix it. */
  readonly fix: string;
}

/**
 * The problems of one synthesized object: its strict schema errors in every Kubernetes version and
 * the flags and commands of its Vitess containers. Empty when it is valid.
 */
export declare function checkObject(obj: unknown, manifestPath: string): Problem[];

/** The documents of a manifest file, read as YAML 1.1 (as cdk8s writes and kubectl reads). */
export declare function parseManifest(manifestPath: string): unknown[];

/**
 * The problems as report violations: one per rule, recommendation and fix, listing each object
 * (with its file) and its locations.
 */
export declare function toViolations(problems: readonly Problem[]): ValidationViolation[];

/** The plugin class that cdk8s.yaml names (`class: ManifestValidation`). */
export declare class ManifestValidation {
  /**
   * @param properties the entry's `properties`; the plugin takes none
   * @default {}
   */
  constructor(properties?: Record<string, unknown>);
  /** Checks every object of every manifest, reports each problem and submits `failure` when there is any. */
  validate(context: ValidationContext): Promise<void>;
}
