#!/usr/bin/env bash
# The underdetermined case n < d (n = 15, d = 20, L = 5, as in the paper's App. C; MATH.md §6.2). λ is the smallest
# nonzero eigenvalue of Σ and w* the minimum-norm interpolator; every run also records the test error on a held-out
# set of 15 samples drawn with the same w_true.
#  1. W_1(0) = 0: the flow's limit is exactly w*, so ‖w_∞ − w*‖ → 0 in the summary.
#  2. W_1(0) ≠ 0: the flow ends at another interpolator w_∞ (‖w_∞ − w*‖ > 0), and the sharpness lower bound is
#     taken with w_∞ ("with w_∞" in the table), which is smaller than the w* one.
#  3. The paper's Figure 6 relates sharpness and generalisation here: a sweep over the initialisation scale
#     for descent at η = 0.001, 0.004, 0.01; its summary table has the final sharpness and test error of each run.
# Runtime on 2 cores: see examples/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.build/release/gradflow
DATA="--samples 15 --input-dim 20 --depth 5"
$G run $DATA --zero-layer 1 --init-scale 0.1 -o underdetermined-w-star.h5 --force
$G run $DATA --init-scale 0.25 -o underdetermined.h5 --force
$G plot underdetermined.h5 -o underdetermined
$G sweep --methods descent --init-scales 0.1,0.17,0.23,0.3,0.36 --lrs 0.001,0.004,0.01 --depths 5 \
  --run-args "--samples 15 --input-dim 20 --monitors sharpness" --descent-args "--t-final 40" -o underdetermined-sweep -q
# Final sharpness against the generalisation gap (test error − train error), per converged run (the paper's Figure 6).
python3 - <<'PY'
import csv
print(f"{'η':>6} {'s':>5} {'sharpness':>10} {'train R':>10} {'test':>10} {'gap':>10}")
for r in csv.DictReader(open("underdetermined-sweep/summary.csv")):
    if r["outcome"] == "converged":
        lr, s, S, train, test = (float(r[k]) for k in ("lr", "init_scale", "final_sharpness", "final_loss", "final_test_loss"))
        print(f"{lr:6.3f} {s:5.2f} {S:10.4g} {train:10.3g} {test:10.4g} {test - train:10.4g}")
PY
