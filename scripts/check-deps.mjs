// sockwire has zero runtime dependencies: only node: built-ins. This check keeps it that way in CI.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const fields = ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies'];
const offending = fields.filter((field) => pkg[field] && Object.keys(pkg[field]).length > 0);
if (offending.length > 0 || !pkg.dependencies) {
  console.error(
    `check-deps: package.json must have an empty "dependencies" object and no ${fields.slice(1).join('/')}; found: ${offending.join(', ') || 'no dependencies field'}`,
  );
  process.exit(1);
}
console.log('check-deps: dependencies is empty (zero runtime dependencies)');
