#!/usr/bin/env bash
# Gradient descent at the edge of stability and the central flow (MATH.md §11; Cohen et al. 2024): the
# edge-of-stability side of the paper's Figure 1(b). L = 5, widths 5, the default data (n = 50, d = 5), Gaussian
# initialisation s = 0.3…0.5, descent at η = 0.1, 0.16, 0.185 for 150 time units (t = kη), each beside gradient
# flow and the central flow from the same weights (`gradflow compare --central`).
# Where S(0) > 2/η descent first catapults, which the central flow does not describe: gradflow refuses it
# (exit 2) and the point is compared with gradient flow alone. The table gives, per point, S(0), descent's final
# sharpness (at its last iterate and at its two-step average, which its period-2 oscillation straddles), the
# central flow's and gradient flow's, and the relative distances of descent's average to both flows.
# Runtime on 2 cores: see examples/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.build/release/gradflow
mkdir -p edge-of-stability
for eta in 0.1 0.16 0.185; do
  steps=$(python3 -c "print(round(150 / $eta))")
  for s in 0.3 0.35 0.4 0.45 0.5; do
    out=edge-of-stability/eos-$eta-$s.h5
    common=(compare --depth 5 --init-scale "$s" --lr "$eta" --steps "$steps" --output-times 150 --force -q -o "$out")
    if ! message=$($G "${common[@]}" --central 2>&1 >/dev/null); then
      case "$message" in
        *"would first catapult"*) $G "${common[@]}" > /dev/null 2>&1 || true ;;  # GD and GF only
        *) echo "η = $eta, s = $s: $message" ;;
      esac
    fi
  done
done
$G plot edge-of-stability/eos-0.16-0.35.h5 -o edge-of-stability/eos-0.16-0.35.png > /dev/null
python3 - <<'PY'
import h5py, numpy as np
print(f"{'η':>6} {'s':>5} {'2/η':>7} {'S(0)':>7} | {'GD last':>8} {'GD avg':>8} {'central':>8} {'GF':>8} | {'avg→CF':>7} {'avg→GF':>7}  note")
within, flow_off = [], []
for eta in ["0.1", "0.16", "0.185"]:
    for s in ["0.3", "0.35", "0.4", "0.45", "0.5"]:
        try:
            f = h5py.File(f"edge-of-stability/eos-{eta}-{s}.h5", "r")
        except OSError:
            print(f"{eta:>6} {s:>5}  (no comparison: see the message above)"); continue
        with f:
            e = float(eta); a = f.attrs
            stop = a["descent_stop"].decode() if isinstance(a["descent_stop"], bytes) else a["descent_stop"]
            gf = a["flow_final_sharpness"]
            if "central_file" not in a:
                with h5py.File(f"edge-of-stability/eos-{eta}-{s}-descent.h5", "r") as d:
                    s0 = d["checkpoints/sharpness"][0]
                gd = f"{a['descent_final_sharpness']:>8.3f}" if stop != "diverged" else f"{'diverged':>8}"
                print(f"{e:>6} {s:>5} {2/e:>7.3f} {s0:>7.2f} | {gd} {'–':>8} {'–':>8} {gf:>8.3f} | {'–':>7} {'–':>7}  "
                      f"catapult (S(0) > 2/η): out of the central flow's scope; descent {stop}")
                continue
            c = f["comparison"]
            s0 = c["central_sharpness"][0]
            gd_last, gd_avg = c["descent_sharpness"][-1], c["averaged_descent_sharpness"][-1]
            cf = a["central_final_sharpness"]
            edge = "reaches the edge" if a["central_final_phase"] == 1 else "never reaches 2/η: the central flow is GF"
            if a["central_final_phase"] == 1:
                within.append(abs(gd_avg - cf) / gd_avg)
                flow_off.append(abs(gd_avg - gf) / gd_avg)
            print(f"{e:>6} {s:>5} {2/e:>7.3f} {s0:>7.2f} | {gd_last:>8.3f} {gd_avg:>8.3f} {cf:>8.3f} {gf:>8.3f} | "
                  f"{c['averaged_central_distance'][-1]:>7.3f} {c['averaged_flow_distance'][-1]:>7.3f}  {edge}; descent {stop}")
if within:
    print(f"where the central flow reaches the edge ({len(within)} points), it predicts descent's final sharpness (at its two-step average) "
          f"within {100 * min(within):.1f}–{100 * max(within):.1f}%; gradient flow is {100 * min(flow_off):.0f}–{100 * max(flow_off):.0f}% off")
PY
