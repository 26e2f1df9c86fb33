#!/usr/bin/env bash
# The paper's GELU experiment (App. C; MATH.md §6.3): the tanh-form GELU after every layer but the last,
# n = 50, d = 5, L = 10, noiseless data (ξ = 0, the default with --model gelu).
#  1. Gradient flow from s = 0.5: no conservation law applies, and the summary shows the drift that occurs
#     (O(1) relative); sharpness at checkpoints beside the linear theory's lines, drawn for reference only.
#  2. Flow against descent at η = 0.02 over the same horizon.
#  3. The paper's sharpness-against-scale figure for GELU: descent at η = 0.005, 0.02, 0.07 from s = 0.43…0.7,
#     up to t = 800 (160,000 steps at η = 0.005, as in the authors' code).
# Runtime on 2 cores: see examples/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.build/release/gradflow
$G run --model gelu --init-scale 0.5 --t-final 1e4 -o gelu.h5 --force
$G plot gelu.h5 -o gelu
$G compare --model gelu --init-scale 0.5 --lr 0.02 --t-final 800 -o gelu-compare.h5 --force
$G sweep --model gelu --methods flow,descent --init-scales 0.43,0.5,0.6,0.7 --lrs 0.005,0.02,0.07 --depths 10 \
  --flow-args "--t-final 1e4 --monitors sharpness" --descent-args "--t-final 800 --monitors sharpness" -o gelu-sweep -q
$G plot gelu-sweep/summary.csv -o gelu-sweep/figure
