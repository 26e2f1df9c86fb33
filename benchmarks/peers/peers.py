#!/usr/bin/env python3
"""The tools researchers use instead of GradFlow, on the identical problem.

Reads one benchmark case file written by `gradflow-bench` (datasets X [n, d], y [n], W1 ... WL, the
horizon T as attribute `t_final`, the reference weights at T in `reference` [P] and GradFlow's own
final-weight error as attribute `target_error`), and times:

  * scipy.integrate.solve_ivp with RK45, DOP853, LSODA and BDF (the last two with the analytic dense
    Jacobian -H, assembled from P exact Hessian-vector products; only where P <= --dense-limit, since
    a dense P x P Jacobian and its LU are out of reach beyond that);
  * gradient descent in numpy, at the learning rate that reaches GradFlow's final-weight error at T.

Equal accuracy: each solve_ivp method starts at GradFlow's tolerances (rtol 1e-8, atol 1e-12) and is
tightened tenfold (at most twice) until its relative final-weight error is within 2x GradFlow's.
Gradient descent: the error at T is first measured at eta = 1/S (S the sharpness at the reference point,
by power iteration); the error of GD is O(eta), so the eta that matches GradFlow's error is eta * target /
error; that run is done if it fits in the budget, otherwise its time is extrapolated from the measured
time per step and marked as such.

Every run stops at --budget seconds (status "budget": the time is then a lower bound). The timings
exclude Python's start-up and imports. Prints one JSON object on stdout.
Usage: peers.py CASE.h5 [--budget 60] [--repeats 3] [--dense-limit 3000]
"""
import argparse
import json
import math
import sys
import time

import h5py
import numpy as np
from scipy.integrate import solve_ivp


class Budget(Exception):
    pass


class DeepLinear:
    """R(W) = (1/n)||y - X W_1^T ... W_L^T 1||^2 and its exact gradient and Hessian-vector product
    (MATH.md sections 1-2), written the way a careful numpy user would: matrix-vector products on the
    layer views of one flat vector, with Sigma = X^T X / n and h = X^T y / n precomputed."""

    def __init__(self, X, y, shapes):
        n = X.shape[0]
        self.sigma = X.T @ X / n
        self.h = X.T @ y / n
        self.shapes = shapes
        self.offsets = np.cumsum([0] + [r * c for r, c in shapes])
        self.P = int(self.offsets[-1])
        self.deadline = math.inf
        self.nfev = 0

    def layers(self, theta):
        return [theta[self.offsets[k]:self.offsets[k + 1]].reshape(self.shapes[k]) for k in range(len(self.shapes))]

    def forward(self, theta):
        W = self.layers(theta)
        L = len(W)
        b = [None] * (L + 1)
        b[L] = np.ones(self.shapes[-1][0])
        for k in range(L - 1, -1, -1):
            b[k] = W[k].T @ b[k + 1]
        g = 2 * (self.sigma @ b[0] - self.h)
        c = [g]
        for k in range(L - 1):
            c.append(W[k] @ c[k])
        return W, b, c

    def gradient(self, theta):
        W, b, c = self.forward(theta)
        out = np.empty(self.P)
        for k in range(len(W)):
            out[self.offsets[k]:self.offsets[k + 1]] = np.outer(b[k + 1], c[k]).ravel()
        return out

    def flow(self, t, theta):
        self.nfev += 1
        if time.perf_counter() > self.deadline:
            raise Budget()
        return -self.gradient(theta)

    def hvp(self, theta, v, state=None):
        W, b, c = state or self.forward(theta)
        V = self.layers(v)
        L = len(W)
        beta = [None] * (L + 1)
        beta[L] = np.zeros(self.shapes[-1][0])
        for k in range(L - 1, -1, -1):
            beta[k] = V[k].T @ b[k + 1] + W[k].T @ beta[k + 1]
        gamma = [2 * self.sigma @ beta[0]]
        for k in range(L - 1):
            gamma.append(V[k] @ c[k] + W[k] @ gamma[k])
        out = np.empty(self.P)
        for k in range(L):
            out[self.offsets[k]:self.offsets[k + 1]] = (np.outer(beta[k + 1], c[k]) + np.outer(b[k + 1], gamma[k])).ravel()
        return out

    def jacobian(self, t, theta):
        """The dense Jacobian -H of the flow, column by column from exact HVPs."""
        state = self.forward(theta)
        J = np.empty((self.P, self.P))
        e = np.zeros(self.P)
        for j in range(self.P):
            e[j] = 1
            J[:, j] = -self.hvp(theta, e, state)
            e[j] = 0
        return J


def rel_error(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def median_run(run, repeats, budget):
    """Runs `run()` (-> dict with 'seconds'), repeating up to `repeats` times while the total stays small."""
    results = [run()]
    while len(results) < repeats and results[0]["status"] == "ok" and results[0]["seconds"] * (len(results) + 1) < budget / 2:
        results.append(run())
    results.sort(key=lambda r: r["seconds"])
    best = dict(results[len(results) // 2])
    best["repeats"] = len(results)
    return best


def ivp(model, theta0, T, reference, method, rtol, atol, budget):
    def run():
        model.nfev = 0
        jac = model.jacobian if method in ("BDF", "LSODA") else None
        start = time.perf_counter()
        model.deadline = start + budget
        try:
            sol = solve_ivp(model.flow, (0, T), theta0, method=method, rtol=rtol, atol=atol, jac=jac, t_eval=[T])
            seconds = time.perf_counter() - start
            if not sol.success:
                return {"status": "failed: " + sol.message, "seconds": seconds, "nfev": model.nfev}
            return {"status": "ok", "seconds": seconds, "nfev": int(sol.nfev), "njev": int(sol.njev),
                    "error": rel_error(sol.y[:, -1], reference), "rtol": rtol, "atol": atol}
        except Budget:
            return {"status": "budget", "seconds": time.perf_counter() - start, "nfev": model.nfev, "rtol": rtol}
    return run


def sharpness(model, theta, iterations=50):
    rng = np.random.default_rng(0)
    v = rng.standard_normal(model.P)
    v /= np.linalg.norm(v)
    state = model.forward(theta)
    s = 0.0
    for _ in range(iterations):
        w = model.hvp(theta, v, state)
        s = float(v @ w)
        v = w / np.linalg.norm(w)
    return s


def descent(model, theta0, T, steps, budget):
    eta = T / steps
    theta = theta0.copy()
    start = time.perf_counter()
    deadline = start + budget
    for i in range(steps):
        theta -= eta * model.gradient(theta)
        if (i & 255) == 0 and time.perf_counter() > deadline:
            return theta, time.perf_counter() - start, i + 1, False
    return theta, time.perf_counter() - start, steps, True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case")
    parser.add_argument("--budget", type=float, default=60, help="seconds per run before it is stopped")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dense-limit", type=int, default=3000, help="largest P for the dense-Jacobian methods")
    parser.add_argument("--methods", default="RK45,DOP853,LSODA,BDF,GD")
    args = parser.parse_args()

    with h5py.File(args.case, "r") as f:
        X = f["X"][()]
        y = f["y"][()]
        depth = int(f.attrs["depth"])
        W = [f[f"W{k}"][()] for k in range(1, depth + 1)]
        T = float(f.attrs["t_final"])
        reference = f["reference"][()]
        target = float(f.attrs["target_error"])
    model = DeepLinear(X, y, [w.shape for w in W])
    theta0 = np.concatenate([w.ravel() for w in W])
    out = {"P": model.P, "t_final": T, "target_error": target, "numpy": np.__version__,
           "scipy": __import__("scipy").__version__, "peers": {}}
    methods = args.methods.split(",")

    for method in [m for m in methods if m != "GD"]:
        if method in ("BDF", "LSODA") and model.P > args.dense_limit:
            gib = model.P ** 2 * 8 / 2 ** 30
            out["peers"][method] = {"status": f"not run: the dense {model.P}x{model.P} Jacobian needs {gib:.1f} GiB and O(P^3) LU"}
            continue
        rtol, atol = 1e-8, 1e-12
        for attempt in range(3):
            result = ivp(model, theta0, T, reference, method, rtol, atol, args.budget)()
            if result["status"] != "ok" or result["error"] <= 2 * target or attempt == 2:
                break
            rtol, atol = rtol / 10, atol / 10
        if result["status"] == "ok":
            result = median_run(ivp(model, theta0, T, reference, method, rtol, atol, args.budget), args.repeats, args.budget)
        out["peers"][method] = result
        print(f"peers: {method}: {result}", file=sys.stderr)

    if "GD" in methods:
        S = sharpness(model, reference)
        probe_steps = max(10, math.ceil(T * S))  # eta = T/steps <= 1/S: stable, below the edge 2/S
        theta, seconds, done, finished = descent(model, theta0, T, probe_steps, args.budget)
        per_step = seconds / done
        if not finished:
            out["peers"]["GD"] = {"status": "budget", "seconds": per_step * probe_steps, "extrapolated": True,
                                  "eta": T / probe_steps, "steps": probe_steps, "sharpness": S,
                                  "note": "even the probe at eta = 1/S does not fit in the budget; its time is a lower bound"}
        else:
            error = rel_error(theta, reference)
            eta = T / probe_steps
            needed = max(probe_steps, math.ceil(probe_steps * error / target)) if error > target else probe_steps
            result = {"status": "ok", "eta_probe": eta, "error_probe": error, "sharpness": S, "steps": needed,
                      "eta": T / needed, "seconds_per_step": per_step}
            if needed == probe_steps:
                result.update(seconds=seconds, error=error, extrapolated=False)
            elif per_step * needed <= args.budget:
                theta, seconds, done, finished = descent(model, theta0, T, needed, args.budget)
                result.update(seconds=seconds, error=rel_error(theta, reference), extrapolated=False)
            else:
                result.update(seconds=per_step * needed, error=target, extrapolated=True)
            out["peers"]["GD"] = result
        print(f"peers: GD: {out['peers']['GD']}", file=sys.stderr)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
