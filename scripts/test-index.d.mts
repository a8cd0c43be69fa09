/** Types of scripts/test-index.mjs, for test/lint/test-index.test.ts. */

/** The directories indexed, relative to the repository. */
export declare const TEST_DIRS: readonly string[];
/** Where the index is written, relative to the repository. */
export declare const README: string;
/** A describe block (children: its blocks and tests) or a test (children: null). */
export interface OutlineEntry {
  readonly title: string;
  readonly children: OutlineEntry[] | null;
}
/** The tree of describe blocks and tests of one file. */
export declare function outline(path: string, text: string): OutlineEntry[];
/** The README's text, from the test files as they are on disk under `base` (the repository). */
export declare function renderIndex(base?: string): string;
