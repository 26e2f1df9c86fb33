"""The Python front end: option mapping from --help, runs, errors, results checked with numpy/h5py."""
import h5py
import numpy as np
import pytest

import gradflow
from gradflow import _cli


def test_options_come_from_help():
    run = gradflow.options("run")
    assert run["loss-tol"] is True and run["force"] is False and run["widths"] is True
    assert "help" not in run and "version" not in run
    assert gradflow.options("sweep")["output-dir"] is True


def test_arguments_mapping():
    args = _cli.arguments("run", dict(init_scale=0.05, widths=[5, 8, 8, 1], force=True, quiet=False, seed=None))
    assert args == ["--init-scale", "0.05", "--widths", "5,8,8,1", "--force"]


def test_unknown_keyword_lists_valid_ones():
    with pytest.raises(TypeError) as info:
        gradflow.run(dept=3)
    assert "'dept'" in str(info.value) and "loss_tol" in str(info.value) and "init_scale" in str(info.value)


def test_error_carries_message_and_exit_code():
    with pytest.raises(gradflow.GradFlowError) as info:
        gradflow.run(depth=0, progress=False)
    assert info.value.exit_code == 2
    assert info.value.message == "--depth 0: the depth must be at least 1"


def test_run_returns_trajectory_checked_with_numpy(small):
    traj = gradflow.run(**small, progress=False)
    assert traj.attrs["status"] == "completed" and "stopped" in traj.summary
    X, y, w_star = traj.read("problem/X"), traj.read("problem/y"), traj.read("problem/w_star")
    np.testing.assert_allclose(w_star, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-8, atol=1e-10)
    W = traj.weights("final")
    p = traj.read("problem/p")
    w = p @ np.linalg.multi_dot(W[::-1]) if len(W) > 1 else p @ W[0]   # f(x) = pᵀ W_L ⋯ W_1 x
    assert np.mean((y - X @ w) ** 2) == pytest.approx(traj.final_loss, rel=1e-9)
    assert traj.time[0] == 0 and len(traj.sharpness) == len(traj.checkpoint_time) > 0


def test_data_as_arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = X @ np.array([1.0, -0.5, 0.25]) + 0.01 * rng.normal(size=30)
    traj = gradflow.run(depth=2, widths=3, data=(X, y), progress=False)
    np.testing.assert_array_equal(traj.read("problem/X"), X)
    assert traj.final_loss == pytest.approx(np.mean((y - X @ np.linalg.lstsq(X, y, rcond=None)[0]) ** 2), abs=2e-10)


def test_descent_loss_tol_zero_takes_all_steps(small):
    traj = gradflow.descent(lr=0.05, steps=500, loss_tol=0, **small, progress=False)
    with h5py.File(traj.path, "r") as f:
        assert int(f["solver"].attrs["steps"]) == 500 and f["trajectory/step"][-1] == 500
    early = gradflow.descent(lr=0.05, steps=5000, **small, progress=False)
    assert "stopped   early, at step" in early.summary


def test_compare_and_open(small):
    cmp = gradflow.compare(lr=0.05, steps=200, **small, progress=False)
    assert cmp.flow is not None and cmp.descent is not None
    frame = cmp.to_pandas()
    assert frame.index.name == "step" and frame["relative_distance"].iloc[0] == 0
    assert isinstance(gradflow.open(cmp.path), gradflow.Comparison)
    assert isinstance(gradflow.open(cmp.flow.path), gradflow.Trajectory)


def test_compare_central():
    # L = 5, widths 5, s = 0.35 on the default data: S(0) = 8.23, descent at η = 0.16 reaches 2/η = 12.5.
    cmp = gradflow.compare(lr=0.16, steps=60, depth=5, init_scale=0.35, central=True, progress=False)
    assert cmp.central is not None and cmp.central.attrs["method"] == "central-flow"
    ds = cmp.to_xarray()
    assert set(ds["central_phase"].values) == {0.0, 1.0}
    edge = ds["central_phase"].values == 1
    np.testing.assert_allclose(ds["central_sharpness"].values[edge], 12.5, rtol=1e-7)
    # The central flow's own file holds the same sharpness column.
    np.testing.assert_array_equal(cmp.central.to_xarray("trajectory")["central_sharpness"].values, ds["central_sharpness"].values)


def test_to_xarray(small):
    pytest.importorskip("xarray")
    traj = gradflow.run(**small, progress=False)
    groups = traj.to_xarray()
    assert {"trajectory", "checkpoints", "problem", "initial", "final", "resume"} <= set(groups)
    ds = traj.to_xarray("trajectory")
    np.testing.assert_array_equal(ds["loss"].values, traj.loss)


def test_sweep_and_critical_lr_frames():
    pd = pytest.importorskip("pandas")
    table = gradflow.sweep(depths=[2, 3], init_scales=[0.1], jobs=2, progress=False)
    assert isinstance(table, pd.DataFrame) and list(table["depth"]) == [2, 3]
    assert set(table["outcome"]) == {"converged"}
    crit = gradflow.critical_lr(depths=[2], bisection_steps=2, progress=False)
    assert list(crit["depth"]) == [2] and (crit["converging_lr"] < crit["failing_lr"]).all()


def test_progress_is_shown(small, capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    gradflow.run(**small)
    assert "writing " in capsys.readouterr().err


def test_options_from_help_and_optional_values(tmp_path):
    """--t-final of descent takes a value (a wrapped help line that starts with "--t-final is given" is not an
    option line); save_weights=True passes the bare flag, False leaves it out."""
    import h5py
    assert gradflow._cli.options("descent")["t-final"] is True
    assert "steps" not in gradflow._cli.options("run")
    assert gradflow._cli.arguments("run", {"save_weights": True}) == ["--save-weights"]
    assert gradflow._cli.arguments("run", {"save_weights": False}) == []
    traj = gradflow.run(depth=2, samples=10, input_dim=3, t_final=2, save_weights=True, output=tmp_path / "w.h5", progress=False)
    with h5py.File(traj.path, "r") as f:
        assert f["weights/weights"].shape[0] == f["trajectory/time"].shape[0]
    gd = gradflow.descent(lr=0.05, t_final=1, depth=2, samples=10, input_dim=3, output=tmp_path / "d.h5", progress=False)
    assert abs(gd.time[-1] - 1.0) < 1e-12
