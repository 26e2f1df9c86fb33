#!/usr/bin/env bash
# Imbalance and the min-norm solution (Min, Tarmoun, Vidal & Mallada 2021; MATH.md §10.3–10.4), two-layer networks.
# 1. The rate from the imbalance D = W_2ᵀW_2 − W_1W_1ᵀ (conserved): a balanced start (D = 0: c = 0, no claim),
#    a heavy W_2 (λ_q(D) > 0) and a heavy W_1 (λ_{h−d+1}(D) < 0), each with c = 4λ⁺[(λ_q(D))₊ + (−λ_{h−d+1}(D))₊]
#    judged against the PL ratio at every row and against the decay R − R_min ≤ (R(0) − R_min)e^{−ct}.
# 2. n < d (n = 5, d = 20): W_1(0) in range(Xᵀ) (here W_1(0) = 0) ends at the min-norm solution; a random W_1(0)
#    keeps its ker X part frozen and ends ‖M_∞P⊥‖_F away from it.
# 3. The width sweep: s = h^{−α} at α = ½ and ¼ for h = 10…640 (3 seeds each), the distance to the min-norm
#    solution against h, and its fitted log-log slope (MATH.md §10.4 measured −0.54 at α = ½, −0.03 at α = ¼).
# Runtime on 2 cores: see examples/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.build/release/gradflow
mkdir -p imbalance
echo "== 1. rates from the imbalance (L = 2, n = 50, d = 5, h = 8, q = 2)"
common=(--depth 2 --widths 8 --outputs 2 --force -q)
$G run "${common[@]}" --init balanced --init-scale 0.3 -o imbalance/balanced.h5 | grep -A1 "imbalance:"
$G run "${common[@]}" --layer-scales 0.2,1.5 -o imbalance/heavy-w2.h5 | grep -A1 "imbalance:"
$G run "${common[@]}" --layer-scales 1.5,0.2 -o imbalance/heavy-w1.h5 | grep -A1 "imbalance:"
echo "== 2. n < d: W_1(0) in range(Xᵀ) or not"
under=(--samples 5 --input-dim 20 --depth 2 --widths 40 --loss-tol 1e-12 --rtol 1e-10 --atol 1e-14 --force -q)
$G run "${under[@]}" --zero-layer 1 --init-scale 0.3 -o imbalance/range.h5 | grep -A1 "ker X"
$G run "${under[@]}" --init-scale 0.3 -o imbalance/random.h5 | grep -A1 "ker X"
echo "== 3. width sweep: distance to the min-norm solution against h, s = h^(−α)"
for alpha in 0.5 0.25; do
  for h in 10 20 40 80 160 320 640; do
    s=$(python3 -c "print($h ** -$alpha)")
    for seed in 1 2 3; do
      $G run --samples 5 --input-dim 20 --depth 2 --widths $h --init-scale "$s" --seed $seed --loss-tol 1e-10 \
        --monitors kernel -o imbalance/width-$alpha-$h-$seed.h5 --force -q > /dev/null
    done
  done
done
python3 - <<'PY'
import h5py, numpy as np
for alpha in ["0.5", "0.25"]:
    hs, distances = [], []
    for h in [10, 20, 40, 80, 160, 320, 640]:
        d = []
        for seed in [1, 2, 3]:
            with h5py.File(f"imbalance/width-{alpha}-{h}-{seed}.h5", "r") as f:
                d.append(f["trajectory/output_kernel_norm"][-1])   # = ‖M_∞ − M*‖_F at the limit
        hs.append(h); distances.append(np.mean(d))
    slope = np.polyfit(np.log(hs), np.log(distances), 1)[0]
    print(f"α = {alpha}: mean distance " + ", ".join(f"h={h}: {d:.3g}" for h, d in zip(hs, distances)) + f"; fitted slope {slope:.2f}")
PY
