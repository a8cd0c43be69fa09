/** Types of scripts/check-purity.mjs, for test/lint/purity.test.ts. */

/** Directories (relative to src/) whose every file is core. */
export declare const CORE_DIRS: readonly string[];
/** Single files the core may import (src/errors.ts, src/defaults.ts). */
export declare const SHARED: readonly string[];
/** Pure files outside the core directories. */
export declare const PURE_FILES: readonly string[];
/** The only non-relative modules a pure file may import, each with its reason. */
export declare const ALLOWED_MODULES: ReadonlyMap<string, string>;
/** How a path under src/ is checked: 'core', 'shared', or null when it is a shell's. */
export declare function kindOf(path: string): 'core' | 'shared' | null;
/** The findings for one file's text; `path` is relative to src/. */
export declare function checkPurity(path: string, text: string): string[];
/** Every finding under `srcDir`. */
export declare function checkTree(srcDir: string): string[];
