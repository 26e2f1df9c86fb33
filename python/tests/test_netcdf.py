"""Every kind of GradFlow file opens in xarray (engine h5netcdf) with named dimensions: no phony_dim,
no warnings, the expected names and sizes, and a float time that is not decoded as a date."""
import warnings

import h5py
import numpy as np
import pytest

import gradflow

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")


def open_group(path, group):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return xr.load_dataset(path, group=group, engine="h5netcdf")


def check(ds, expected_dims, path, group):
    assert not [d for d in ds.dims if "phony" in str(d)], (path, group, dict(ds.sizes))
    assert dict(ds.sizes) == expected_dims, (group, dict(ds.sizes))
    for name, var in ds.variables.items():
        assert "long_name" in var.attrs, (group, name)
    if "time" in ds.variables:
        assert ds["time"].dtype == np.float64 and "units" not in ds["time"].attrs


@pytest.fixture(scope="module")
def files(tmp_path_factory, small):
    folder = tmp_path_factory.mktemp("files")
    flow = gradflow.run(**small, output=folder / "flow.h5", progress=False)
    descent = gradflow.descent(lr=0.05, steps=200, **small, output=folder / "descent.h5", progress=False)
    compare = gradflow.compare(lr=0.05, steps=100, **small, output=folder / "cmp.h5", progress=False)
    saved = gradflow.run(**small, save_weights=3, output=folder / "saved.h5", progress=False)
    saved_descent = gradflow.descent(lr=0.05, steps=200, **small, save_weights=1, output=folder / "saved-gd.h5", progress=False)
    q2 = gradflow.run(depth=2, widths=[3, 4, 2], samples=10, input_dim=3, outputs=2, test_samples=0, t_final=5,
                      output=folder / "q2.h5", progress=False)
    crit = gradflow.critical_lr(depths=[2, 3], bisection_steps=2, output=folder / "crit.h5", progress=False)
    table = gradflow.sweep(depths=[2, 3], jobs=2, output_dir=folder / "sweep", progress=False)
    return dict(flow=flow, descent=descent, compare=compare, q2=q2, saved=saved, saved_descent=saved_descent, crit=crit.attrs["path"],
                sweep=str(folder / "sweep" / "summary.h5"))


def trajectory_dims(traj):
    with h5py.File(traj.path, "r") as f:
        rows, m = f["trajectory/time"].shape[0], f["checkpoints/time"].shape[0]
        P, L = f["initial/weights"].shape[0], int(f["network"].attrs["depth"])
        n, d = f["problem/X"].shape
        q = int(f["problem"].attrs["q"])
        n_test = int(f["problem"].attrs["n_test"])
        entry = f["resume/state"].shape[1]
        columns = set(f["trajectory"].keys())
        assert f.attrs["format_version"] == 3
        modes = f["trajectory/mode_strength"].shape[1] if "mode_strength" in f["trajectory"] else None
        imbalance = f["problem/imbalance_eigenvalues"].shape if "imbalance_eigenvalues" in f["problem"] else None
        rrr = f["problem/rrr_loss"].shape[0] if "rrr_loss" in f["problem"] else None
        saved = f["weights/time"].shape[0] if "weights" in f else None
    problem = dict(sample=n, feature=d, mode=d)
    problem.update(dict(output=q) if q > 1 else dict(output_unit=1))
    if n_test:
        problem["sample_test"] = n_test
    if imbalance:
        problem.update(layer_pair=imbalance[0], imbalance_eigenvalue=imbalance[1])
    if rrr:
        problem["rrr_rank"] = rrr
    trajectory = dict(time=rows)
    # per layer pair: Lemma 1's and 2's columns; per layer: Lemma 2's and the residual displacement
    if columns & {"conservation_drift", "alignment"}:
        trajectory["layer_pair"] = L - 1
    if columns & {"rank1_residual", "theta_norm"}:
        trajectory["layer"] = L
    if modes:
        trajectory["target_mode"] = modes
    groups = dict(trajectory=trajectory, checkpoints=dict(time=m, parameter=P),
                  problem=problem, initial=dict(parameter=P), final=dict(parameter=P),
                  resume=dict(record=2, record_entry=entry, parameter=P))
    if saved is not None:
        groups["weights"] = dict(time=saved, parameter=P)
    return groups


@pytest.mark.parametrize("kind", ["flow", "descent", "q2", "compare-flow", "compare-descent", "saved", "saved_descent"])
def test_trajectory_groups(files, kind):
    traj = files[kind] if "-" not in kind else getattr(files["compare"], kind.split("-")[1])
    for group, dims in trajectory_dims(traj).items():
        ds = open_group(traj.path, group)
        if group == "trajectory" and traj.attrs["method"] == "gradient-descent":
            assert "step" in ds
        check(ds, dims, traj.path, group)
    # the root opens too: only attributes and dimensions without variables
    root = open_group(traj.path, None)
    assert root.attrs["format"] == "gradflow-trajectory" and not root.data_vars


def test_trajectory_labels_match_h5py(files):
    traj = files["flow"]
    ds = open_group(traj.path, "trajectory")
    with h5py.File(traj.path, "r") as f:
        np.testing.assert_array_equal(ds["time"].values, f["trajectory/time"][:])
        np.testing.assert_array_equal(ds["conservation_drift"].values, f["trajectory/conservation_drift"][:])
        assert ds["conservation_drift"].dims == ("time", "layer_pair")
        assert ds["rank1_residual"].dims == ("time", "layer")


def test_saved_weights(files):
    """/weights: time [M] labels the rows, weights [M, P] on (time, parameter); t = 0 and the last row included."""
    for kind, k in [("saved", 3), ("saved_descent", 1)]:
        traj = files[kind]
        ds = open_group(traj.path, "weights")
        assert ds["weights"].dims == ("time", "parameter")
        with h5py.File(traj.path, "r") as f:
            times = f["trajectory/time"][:]
            expected = list(times[::k]) + ([times[-1]] if (len(times) - 1) % k else [])
            np.testing.assert_array_equal(ds["time"].values, expected)
            np.testing.assert_array_equal(ds["weights"].values[0], f["initial/weights"][:])
            np.testing.assert_array_equal(ds["weights"].values[-1], f["final/weights"][:])


def test_comparison(files):
    ds = open_group(files["compare"].path, "comparison")
    rows = len(files["compare"].table["step"])
    check(ds, dict(step=rows), files["compare"].path, "comparison")
    assert ds["relative_distance"].dims == ("step",)


def test_critical_lr_file(files):
    ds = open_group(files["crit"], None)
    check(ds, dict(case=2), files["crit"], "/")
    assert list(ds["depth"].values) == [2, 3]


def test_sweep_summary(files):
    ds = open_group(files["sweep"], None)
    check(ds, dict(index=2), files["sweep"], "/")
    assert list(ds["index"].values) == [0, 1]
