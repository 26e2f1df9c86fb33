#!/usr/bin/env bash
# Multivariate output (the paper's Theorem 5; MATH.md §6.1): Y ∈ ℝ^{n×q}, no projection, residual initialisation
# with all layers d×d (q = d = 5), L = 10. Lemma 1 still holds (the drift stays at the solver's tolerance), the flow
# converges to M* = (X⁺Y)ᵀ (‖M − M*‖_F in the summary), and max_k ‖θ_k‖_F = L‖W_k − W_k(0)‖_F stays O(1).
# Then gradient descent, whose conservation drift matches MATH.md §5's exact η² sum.
# Runtime on 2 cores: see examples/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.build/release/gradflow
$G run --outputs 5 --init residual --depth 10 -o multivariate.h5 --force
$G descent --outputs 5 --init residual --depth 10 --lr 0.05 --t-final 200 -o multivariate-gd.h5 --force
$G plot multivariate.h5 -o multivariate
