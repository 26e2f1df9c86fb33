"""Open a GradFlow trajectory file with h5py and print what a researcher looks at first.

Usage: python3 examples/read_trajectory.py FILE.h5
"""
import sys

import h5py
import numpy as np

with h5py.File(sys.argv[1], "r") as f:
    print(f"status: {f.attrs['status']} ({f.attrs['message']})")
    t = f["trajectory/time"][:]
    excess = f["trajectory/excess_risk"][:]
    for i in np.linspace(0, len(t) - 1, 8).astype(int):
        print(f"t = {t[i]:12.4g}   R - R_min = {excess[i]:.4g}")
    widths = f["network"].attrs["widths"]
    theta = f["final/weights"][:]
    offset = 0
    for k in range(1, len(widths)):
        rows, cols = widths[k], widths[k - 1]
        W = theta[offset : offset + rows * cols].reshape(rows, cols)  # row-major block of W_k
        offset += rows * cols
        s = np.linalg.svd(W, compute_uv=False)
        print(f"W_{k}: shape {W.shape}, ||W||_2^2 = {s[0]**2:.4f}, ||W||_F^2 - ||W||_2^2 = {np.sum(s[1:]**2):.3g}")
