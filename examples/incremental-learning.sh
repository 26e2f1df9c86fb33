#!/usr/bin/env bash
# Incremental learning (Gidel, Bach & Lacoste-Julien 2019; MATH.md §10.1–10.2): from a small initialisation, a
# linear network learns the reduced-rank regression solutions one rank at a time — plateaus at the RRR levels,
# then a jump, one singular value of M = W_L⋯W_1 at a time, in decreasing order of σ_i.
# The data: whitened X (n = 100, d = 6) and noiseless Y = X M*ᵀ with M* of singular values 4, 2, 1, 0.5 (q = 4).
# Runs: gradient flow (L = 2), gradient descent at η = 0.01 and 0.1, depth 1 (no plateaus) and depth 3 (sharper
# plateaus), and the exact case (spectral start, where the half-times equal MATH.md §10.2's to the tolerance).
# Each run's table has the transition verdicts; `gradflow plot` draws s_i(M(t)) with the half-times and the
# loss beside the RRR levels. Runtime on 2 cores: see examples/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.build/release/gradflow
mkdir -p incremental-learning
python3 - <<'PY'
import h5py, numpy as np
rng = np.random.default_rng(7)
n, d, q = 100, 6, 4
u, _, vt = np.linalg.svd(rng.standard_normal((n, d)), full_matrices=False)
X = np.sqrt(n) * u @ vt                                   # XᵀX/n = I
U, _ = np.linalg.qr(rng.standard_normal((q, q)))
V, _ = np.linalg.qr(rng.standard_normal((d, q)))
M = U @ np.diag([4.0, 2.0, 1.0, 0.5]) @ V.T               # M*, q×d
with h5py.File("incremental-learning/data.h5", "w") as f:
    f["X"] = X
    f["Y"] = X @ M.T
PY
common=(--data incremental-learning/data.h5 --widths 8 --seed 9 --loss-tol 1e-8 --force -q)  # seed 9: every a_i(0) > 0
$G run "${common[@]}" --depth 2 --init-scale 1e-3 -o incremental-learning/flow.h5 | tail -6
$G descent "${common[@]}" --depth 2 --init-scale 1e-3 --lr 0.01 --steps 100000 -o incremental-learning/gd-0.01.h5 | tail -6
$G descent "${common[@]}" --depth 2 --init-scale 1e-3 --lr 0.1 --steps 100000 -o incremental-learning/gd-0.1.h5 | tail -6
$G run "${common[@]}" --depth 1 --init-scale 1e-3 -o incremental-learning/depth1.h5 | tail -6
$G run "${common[@]}" --depth 3 --init-scale 1e-2 -o incremental-learning/depth3.h5 | tail -6
$G run "${common[@]}" --depth 2 --init spectral --mode-strength 1e-4 --rtol 1e-11 --atol 1e-16 -o incremental-learning/exact.h5 | tail -6
for f in flow gd-0.01 gd-0.1 depth1 depth3 exact; do $G plot incremental-learning/$f.h5 -o incremental-learning/$f.png > /dev/null; done
python3 - <<'PY'
import h5py
print(f"{'run':10} {'half-times (observed)':40} {'predicted (MATH.md §10.2)':40}")
for name in ["flow", "gd-0.01", "gd-0.1", "depth1", "depth3", "exact"]:
    with h5py.File(f"incremental-learning/{name}.h5", "r") as f:
        g = f.get("transitions")
        if g is None:
            print(f"{name:10} (one mode or no transitions monitor)")
            continue
        fmt = lambda v: " ".join(f"{x:8.4g}" for x in v)
        print(f"{name:10} {fmt(g['observed'][:]):40} {fmt(g['predicted'][:]):40}")
PY
