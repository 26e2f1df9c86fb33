#!/usr/bin/env bash
# Benchmark case D from the command line: ill-conditioned data (cond Σ = 1e4) make the flow stiff.
# Compares the automatic method (explicit until stability-limited, then preconditioned BDF) with explicit
# Dormand–Prince throughout, and BDF with and without the Gauss–Newton preconditioner.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product gradflow >/dev/null
G=.build/release/gradflow
for method in "auto" "bdf-krylov" "bdf-krylov --preconditioner none" "erk"; do
  echo "== --method $method"
  $G run --samples 200 --input-dim 50 --condition-number 1e4 --method $method --monitors none -o /tmp/stiff.h5 --force -q \
    | grep -E "switch|solver|time "
done
