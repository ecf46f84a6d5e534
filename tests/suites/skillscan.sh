#!/bin/sh
# The skill scanner's evaluation (tests/skillscan-eval.sh) with the built
# binary; its "skillscan-eval: N passed, N failed" line is the count.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OCSS=${OCSS:-${OCSS_BUILD:-$SRC/build/default}/ocss}
export OCSS
exec sh "$SRC/tests/skillscan-eval.sh"
