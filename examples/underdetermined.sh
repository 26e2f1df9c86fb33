#!/usr/bin/env bash
# The underdetermined case n < d (n = 15, d = 20, L = 5, as in the paper): λ is the smallest nonzero eigenvalue
# of Σ and w* the minimum-norm interpolator. With W_1(0) = 0 the flow's limit is exactly w* (MATH.md §6.2),
# so ‖w − w*‖ → 0 in the summary. Runtime on 2 cores: see examples/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
.build/release/gradflow run --samples 15 --input-dim 20 --depth 5 --zero-layer 1 --init-scale 0.1 -o underdetermined.h5 --force
.build/release/gradflow plot underdetermined.h5 -o underdetermined
