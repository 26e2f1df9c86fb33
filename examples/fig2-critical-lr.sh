#!/usr/bin/env bash
# The paper's Figure 2: the critical learning rate of gradient descent against depth, residual setting (d = 5,
# s = 0.25, L = 5, 10, 20, 40), beside the prediction 2/S_min. Expected: η_crit·L roughly constant (0.76–0.77
# here), each η_crit inside the predicted interval. Runtime on 2 cores: about 3 s.
set -euo pipefail
cd "$(dirname "$0")/.."
.build/release/gradflow critical-lr -o fig2-critical-lr.h5 --force
.build/release/gradflow plot fig2-critical-lr.h5 -o fig2-critical-lr
