#!/bin/sh
# Long fuzzing session of the property tests (test/property): the same properties as `npm test`,
# with FUZZ_RUNS runs each (default 200000) and, unless FUZZ_SEED is given, a fresh seed so that each
# session explores new inputs. A failure prints the seed and the counterexample path; replay it with
#   FUZZ_SEED=<seed> FUZZ_RUNS=<n> npx vitest run test/property
# Extra arguments go to vitest (e.g. a file filter: `npm run fuzz -- fuzz.property`).
set -eu
cd "$(dirname "$0")/.."
FUZZ_RUNS="${FUZZ_RUNS:-200000}"
FUZZ_SEED="${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
export FUZZ_RUNS FUZZ_SEED
echo "fuzz: FUZZ_RUNS=$FUZZ_RUNS FUZZ_SEED=$FUZZ_SEED" >&2
exec npx vitest run test/property "$@"
