#!/usr/bin/env python3
"""diffrax (JAX on CPU, float64) on one benchmark case file written by `gradflow-bench`.

The right-hand side is the same exact gradient as peers.py (MATH.md section 1): backward suffix vectors
b_k, forward vectors c_k, and the outer products b_{k+1} c_k^T, on the layer views of one flat vector. The
solver is diffrax's Dopri5 (the Dormand-Prince 5(4) pair GradFlow's `erk` and `auto` use) with a PID step
controller at GradFlow's tolerances (rtol 1e-8, atol 1e-12). Like `gradflow run`, every solve stops when
R - R_min = (w - w*)^T Sigma (w - w*) <= 1e-10 (a diffrax Event), before the horizon 1e6; without that stop an
explicit method would grind on at stability-limited steps after convergence (as GradFlow's `erk` would).

Measured (printed as one JSON object on stdout):
  * first_call_seconds: the first call of jax.jit(solve), compilation and one solve;
  * seconds_after_jit: the median of --repeats further calls (block_until_ready), one solve each;
  * sweep: jax.jit(jax.vmap(solve)) over --sweep initialisations (Gaussian, with the case's own scale, seed 0),
    each to the same T: the first call (compilation and the sweep), then the median of the later calls divided
    by the number of points, the time per run after compilation.
The process's whole wall time (Python start-up and the imports included) is measured by the driver.
Usage: diffrax_peer.py CASE.h5 [--repeats 3] [--sweep 1000] [--max-steps 100000]
"""
import argparse
import json
import sys
import time

t_import = time.perf_counter()
import h5py
import numpy as np

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")
import jax.numpy as jnp
import diffrax

t_imported = time.perf_counter()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sweep", type=int, default=1000)
    parser.add_argument("--max-steps", type=int, default=100000)
    parser.add_argument("--rtol", type=float, default=1e-8)
    parser.add_argument("--atol", type=float, default=1e-12)
    parser.add_argument("--loss-tol", type=float, default=1e-10)
    parser.add_argument("--horizon", type=float, default=1e6)
    args = parser.parse_args()
    args_loss_tol = args.loss_tol

    with h5py.File(args.case, "r") as f:
        X = f["X"][()]
        y = f["y"][()]
        depth = int(f.attrs["depth"])
        W = [f[f"W{k}"][()] for k in range(1, depth + 1)]
        T = float(f.attrs["t_final"])
        reference = f["reference"][()] if "reference" in f else None
    shapes = [w.shape for w in W]
    offsets = np.cumsum([0] + [r * c for r, c in shapes]).tolist()
    n = X.shape[0]
    sigma = jnp.asarray(X.T @ X / n)
    h = jnp.asarray(X.T @ y / n)
    p_out = jnp.ones(shapes[-1][0])
    theta0 = np.concatenate([w.ravel() for w in W])
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    w_star_j = jnp.asarray(w_star)

    def excess(theta):  # (w - w*)^T Sigma (w - w*), w = W_1^T ... W_L^T p
        b = p_out
        for k in range(depth - 1, -1, -1):
            b = theta[offsets[k]:offsets[k + 1]].reshape(shapes[k]).T @ b
        e = b - w_star_j
        return e @ (sigma @ e)

    def gradient(theta):
        Ws = [theta[offsets[k]:offsets[k + 1]].reshape(shapes[k]) for k in range(depth)]
        b = [None] * (depth + 1)
        b[depth] = p_out
        for k in range(depth - 1, -1, -1):
            b[k] = Ws[k].T @ b[k + 1]
        c = [2 * (sigma @ b[0] - h)]
        for k in range(depth - 1):
            c.append(Ws[k] @ c[k])
        return jnp.concatenate([jnp.outer(b[k + 1], c[k]).ravel() for k in range(depth)])

    term = diffrax.ODETerm(lambda t, theta, args: -gradient(theta))
    solver = diffrax.Dopri5()
    controller = diffrax.PIDController(rtol=args.rtol, atol=args.atol)

    event = diffrax.Event(lambda t, theta, args, **kwargs: excess(theta) <= args_loss_tol)

    def solve(theta):
        sol = diffrax.diffeqsolve(term, solver, t0=0.0, t1=args.horizon, dt0=None, y0=theta, stepsize_controller=controller,
                                  saveat=diffrax.SaveAt(t1=True), max_steps=args.max_steps, event=event, throw=False)
        return sol.ys[-1], sol.stats["num_steps"], sol.result == diffrax.RESULTS.event_occurred, sol.ts[-1]

    one = jax.jit(solve)
    start = time.perf_counter()
    final, steps, ok, t_stop = jax.block_until_ready(one(jnp.asarray(theta0)))
    first = time.perf_counter() - start
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        jax.block_until_ready(one(jnp.asarray(theta0)))
        times.append(time.perf_counter() - start)
    out = {"jax": jax.__version__, "diffrax": diffrax.__version__, "P": int(theta0.size), "t_final": T,
           "rtol": args.rtol, "atol": args.atol, "solver": "Dopri5 + PIDController",
           "import_seconds": t_imported - t_import, "first_call_seconds": first,
           "seconds_after_jit": float(np.median(times)) if times else None, "steps": int(steps), "stopped_at_loss_tol": bool(ok), "t_stop": float(t_stop),
           "t_final_gradflow": T}
    if reference is not None and abs(float(t_stop) - T) <= 1e-6 * T:
        final = np.asarray(final)
        out["error"] = float(np.linalg.norm(final - reference) / np.linalg.norm(reference))

    if args.sweep > 0:
        rng = np.random.default_rng(0)
        scale = float(np.std(theta0))
        batch = jnp.asarray(rng.standard_normal((args.sweep, theta0.size)) * scale)
        many = jax.jit(jax.vmap(solve))
        start = time.perf_counter()
        _, sweep_steps, sweep_ok, _ = jax.block_until_ready(many(batch))
        sweep_first = time.perf_counter() - start
        sweep_times = []
        for _ in range(max(1, min(args.repeats, 2))):
            start = time.perf_counter()
            jax.block_until_ready(many(batch))
            sweep_times.append(time.perf_counter() - start)
        sweep_seconds = float(np.median(sweep_times))
        out["sweep"] = {"points": args.sweep, "init": f"Gaussian, scale {scale:.4g} (the case's), seed 0; each to R - R_min <= {args.loss_tol:g}",
                        "first_call_seconds": sweep_first, "seconds": sweep_seconds,
                        "seconds_per_run_after_jit": sweep_seconds / args.sweep,
                        "steps_median": int(np.median(np.asarray(sweep_steps))),
                        "steps_max": int(np.max(np.asarray(sweep_steps))),
                        "stopped_at_loss_tol": int(np.sum(np.asarray(sweep_ok)))}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
