// Types of generate.js, for the tests (TypeScript reads this file instead of the JavaScript).

/** Where the generated files go: `validation/data/`. */
export declare const DATA_DIR: string;

/**
 * Every generated file, by path relative to `validation/`, with its content.
 * @param sharedDir the reference data directory
 * @default `../shared` beside the repository
 */
export declare function generatedFiles(sharedDir?: string): Record<string, string>;

/** `<apiVersion> <kind>` of every `k8s.Kube*` class that a file under `lib/` names, sorted. */
export declare function libKinds(repoDir?: string): string[];
