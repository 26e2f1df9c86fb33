#!/usr/bin/env bash
# Figure 1(b) with residual initialisation W_k = I + s/√(L·d)·N_k (p a random unit vector): final sharpness
# against s for gradient flow and descent. Expected: sharpness well above the lower bound, growing with s
# (Corollary 3, constant not recoverable); 8LΛ does not apply. Runtime on 2 cores: see examples/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
.build/release/gradflow sweep --methods flow,descent --inits residual --init-scales 0.25,0.5,1,2 --lrs 0.02,0.05 --depths 5 \
  --flow-args "--t-final 1e6 --monitors sharpness" --descent-args "--steps 200000 --monitors sharpness" -o fig1b-residual -q
.build/release/gradflow plot fig1b-residual/summary.csv -o fig1b-residual/figure
