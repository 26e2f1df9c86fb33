#!/usr/bin/env bash
# The paper's Figure 1(b), small Gaussian initialisation: final sharpness against the initialisation scale, for
# gradient flow and for gradient descent at three learning rates (L = 5, the default data n = 50, d = 5).
# Expected: sharpness near the lower bound 2La‖w*‖^{2−2/L} for small scales, growing with the scale; descent ends
# flatter as η grows, and always below 2/η. Runtime on 2 cores: about 1 s (20 runs).
set -euo pipefail
cd "$(dirname "$0")/.."
.build/release/gradflow sweep --methods flow,descent --init-scales 0.05,0.1,0.2,0.3,0.5 --lrs 0.02,0.05,0.1 --depths 5 \
  --flow-args "--t-final 1e7 --monitors sharpness" --descent-args "--steps 400000 --monitors sharpness" -o fig1b-small-init -q
.build/release/gradflow plot fig1b-small-init/summary.csv -o fig1b-small-init/figure
