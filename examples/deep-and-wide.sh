#!/usr/bin/env bash
# Gradient flow on a deep, wide network: L = 20, hidden widths 50, d = 50, n = 200 (P = 47,550).
# Reaches R − R_min ≤ 1e-10 at t ≈ 30 in about 2.5 s on 2 cores, 1.3 s of it in the monitors.
set -euo pipefail
cd "$(dirname "$0")/.."
.build/release/gradflow run --depth 20 --widths 50 --input-dim 50 --samples 200 --output deep-and-wide.h5 --force
.build/release/gradflow inspect deep-and-wide.h5 --rows 6
