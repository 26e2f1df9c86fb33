#!/usr/bin/env python3
"""GradFlow from Python: a gradient flow and a gradient descent from the same start, compared, with the
loss and the sharpness drawn by matplotlib when it is installed (else the numbers are printed).

    pip install ./python[xarray]          # once
    python3 examples/python-quickstart.py  # finds the binary on PATH, via GRADFLOW_BINARY, or in .build/
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))  # also without pip install
import gradflow  # noqa: E402

shape = dict(depth=4, widths=8)
flow = gradflow.run(**shape, method="bdf-dense", rtol=1e-10, atol=1e-14)   # the README's worked example
descent = gradflow.descent(lr=0.05, steps=4000, loss_tol=0, **shape)       # exactly 4000 steps, t = 200
cmp = gradflow.compare(lr=0.05, steps=400, **shape)                        # GD against GF at t = kη

print(f"flow:    R = {flow.final_loss:.10f} at t = {flow.time[-1]:.4g}, final sharpness S = {flow.sharpness[-1]:.4f}")
print(f"descent: R = {descent.final_loss:.10f} after {int(descent['step'][-1])} steps, S = {descent.sharpness[-1]:.4f}, 2/η = {2 / 0.05:g}")
table = cmp.table
print(f"compare: max ‖θ_GD(k) − θ_GF(kη)‖/‖θ_GF‖ = {table['relative_distance'].max():.3g} over {len(table['step'])} rows")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("(matplotlib is not installed: the numbers only)")
    for name, traj in [("flow", flow), ("descent", descent)]:
        print(f"{name}: t, R − R_min at 5 rows:", [(f"{t:.3g}", f"{e:.3g}") for t, e in zip(traj.time[::len(traj.time) // 5], traj.excess_risk[::len(traj.time) // 5])])
        print(f"{name}: checkpoint t, S:", [(f"{t:.3g}", f"{s:.4g}") for t, s in zip(traj.checkpoint_time, traj.sharpness)])
else:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, traj in [("gradient flow", flow), ("gradient descent η = 0.05", descent)]:
        left.loglog(traj.time[1:], traj.excess_risk[1:], label=name)
        right.semilogx(traj.checkpoint_time[1:], traj.sharpness[1:], "o-", label=name)
    left.set(xlabel="t", ylabel="R − R_min", title="loss")
    right.set(xlabel="t", ylabel="S = λ_max(∇²R)", title="sharpness")
    left.legend(); right.legend()
    fig.tight_layout()
    fig.savefig("python-quickstart.png", dpi=120)
    print("wrote python-quickstart.png")
