"""GradFlow from Python: run the ``gradflow`` binary and read its HDF5 files.

>>> import gradflow
>>> flow = gradflow.run(depth=4, widths=8, method="bdf-dense", rtol=1e-10, atol=1e-14)
>>> flow.final_loss, flow.sharpness[-1]

Every function maps its keyword arguments to the subcommand's options, read from the binary's own
``--help`` (``init_scale=0.05`` → ``--init-scale 0.05``; ``force=True`` → ``--force``; lists are
comma-joined); unknown keywords raise ``TypeError`` listing the valid ones, and a failing run raises
``GradFlowError`` with the binary's one-line message and exit code. Without ``output`` the files go to a
fresh temporary folder.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import h5py
import numpy as np

from ._cli import GradFlowError, arguments, binary, execute, options

__all__ = ["GradFlowError", "Trajectory", "Comparison", "run", "descent", "compare", "critical_lr", "sweep", "open",
           "binary", "options"]
__version__ = "0.1.0"

PathLike = Union[str, os.PathLike]


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return value.item()
    return value


class Trajectory:
    """A GradFlow trajectory file (``gradflow run`` or ``descent``).

    ``traj["loss"]`` is a ``/trajectory`` column as a numpy array; ``time``, ``loss``, ``excess_risk`` are
    shortcuts; ``sharpness`` and ``checkpoint_time`` come from ``/checkpoints``; ``attrs`` are the root
    attributes (``config`` decoded from JSON in ``config``); ``summary`` is the binary's printed summary when
    this object came from a run. ``to_xarray()`` gives xarray Datasets (see there)."""

    def __init__(self, path: PathLike, summary: str = ""):
        self.path = os.fspath(path)
        self.summary = summary
        with h5py.File(self.path, "r") as f:
            self.attrs: Dict[str, Any] = {k: _text(v) for k, v in f.attrs.items()}
            self.groups: List[str] = [k for k in f.keys() if isinstance(f[k], h5py.Group)]
            self.columns: List[str] = list(f["trajectory"].keys()) if "trajectory" in f else []

    def __repr__(self) -> str:
        return f"Trajectory({self.path!r}, method={self.attrs.get('method')!r}, status={self.attrs.get('status')!r})"

    @property
    def config(self) -> Dict[str, Any]:
        return json.loads(self.attrs.get("config", "{}"))

    def read(self, name: str) -> np.ndarray:
        """Any dataset by its path in the file (``"problem/X"``, ``"final/weights"``)."""
        with h5py.File(self.path, "r") as f:
            return f[name][()]

    def __getitem__(self, column: str) -> np.ndarray:
        return self.read(f"trajectory/{column}")

    def group_attrs(self, group: str) -> Dict[str, Any]:
        with h5py.File(self.path, "r") as f:
            return {k: _text(v) for k, v in f[group].attrs.items()} if group in f else {}

    time = property(lambda self: self["time"])
    loss = property(lambda self: self["loss"])
    excess_risk = property(lambda self: self["excess_risk"])
    final_loss = property(lambda self: float(self["loss"][-1]))

    @property
    def sharpness(self) -> np.ndarray:
        """The sharpness at the checkpoints (``/checkpoints/sharpness``; empty without checkpoints)."""
        return self.read("checkpoints/sharpness") if "checkpoints" in self.groups else np.empty(0)

    @property
    def checkpoint_time(self) -> np.ndarray:
        return self.read("checkpoints/time") if "checkpoints" in self.groups else np.empty(0)

    def weights(self, which: str = "final") -> List[np.ndarray]:
        """W_1 … W_L from ``/{which}/weights`` (``initial``, ``final`` or ``resume``), in their natural shapes."""
        theta = self.read(f"{which}/weights")
        with h5py.File(self.path, "r") as f:
            widths = [int(w) for w in f["network"].attrs["widths"]]
        blocks, offset = [], 0
        for k in range(1, len(widths)):
            size = widths[k] * widths[k - 1]
            blocks.append(theta[offset:offset + size].reshape(widths[k], widths[k - 1]))
            offset += size
        return blocks

    def to_xarray(self, group: Optional[str] = None):
        """xarray (engine h5netcdf, labelled dimensions). With ``group`` (``"trajectory"``, ``"checkpoints"``,
        ``"problem"``, ``"initial"``, ``"final"``, ``"resume"``): that group's Dataset. Without: a dict
        {group name: Dataset} of every group that holds datasets, plus ``"/"`` with the root attributes."""
        import xarray as xr
        if group is not None:
            return xr.load_dataset(self.path, group=group, engine="h5netcdf")
        result = {"/": xr.load_dataset(self.path, engine="h5netcdf")}
        with h5py.File(self.path, "r") as f:
            names = [g for g in self.groups if any(isinstance(v, h5py.Dataset) for v in f[g].values())]
        for name in names:
            result[name] = xr.load_dataset(self.path, group=name, engine="h5netcdf")
        return result


class Comparison:
    """A ``gradflow compare`` file: ``table`` (the ``/comparison`` columns, a dict of numpy arrays, or
    ``to_xarray()`` / ``to_pandas()``), with ``flow`` and ``descent`` the two trajectories beside it, and
    ``central`` the central flow's (``compare(..., central=True)``; None otherwise)."""

    def __init__(self, path: PathLike, summary: str = ""):
        self.path = os.fspath(path)
        self.summary = summary
        folder = Path(self.path).parent
        with h5py.File(self.path, "r") as f:
            self.attrs = {k: _text(v) for k, v in f.attrs.items()}
            self.table = {k: v[()] for k, v in f["comparison"].items()}
        self.flow = Trajectory(folder / self.attrs["flow_file"]) if (folder / self.attrs["flow_file"]).exists() else None
        self.descent = Trajectory(folder / self.attrs["descent_file"]) if (folder / self.attrs["descent_file"]).exists() else None
        central = self.attrs.get("central_file")
        self.central = Trajectory(folder / central) if central and (folder / central).exists() else None

    def __repr__(self) -> str:
        return f"Comparison({self.path!r}, lr={self.attrs.get('lr')!r})"

    def to_xarray(self):
        import xarray as xr
        return xr.load_dataset(self.path, group="comparison", engine="h5netcdf")

    def to_pandas(self):
        import pandas as pd
        return pd.DataFrame(self.table).set_index("step")


def open(path: PathLike) -> Union[Trajectory, Comparison]:  # noqa: A001 (gradflow.open, as the issue asks)
    """Opens a GradFlow file: a Trajectory, or a Comparison for a ``compare`` file."""
    with h5py.File(path, "r") as f:
        kind = _text(f.attrs.get("format", ""))
    if kind == "gradflow-trajectory":
        return Trajectory(path)
    if kind == "gradflow-comparison":
        return Comparison(path)
    raise GradFlowError(f"{os.fspath(path)}: not a GradFlow trajectory or comparison file (format = {kind!r})", 2)


def _scratch(name: str) -> str:
    return os.path.join(tempfile.mkdtemp(prefix="gradflow-"), name)


def _data_file(data: Any) -> Any:
    """``data`` as the binary takes it: a path, or (X, y) arrays written to a temporary HDF5 file."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data[0], (str, os.PathLike)):
        path = _scratch("data.h5")
        with h5py.File(path, "w") as f:
            f["X"] = np.asarray(data[0], dtype=float)
            f["y"] = np.asarray(data[1], dtype=float)
        return path
    return data


def _run(subcommand: str, kwargs: Dict[str, Any], default_output: str, progress: bool, output_key: str = "output"):
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    if "data" in kwargs:
        kwargs["data"] = _data_file(kwargs["data"])
    kwargs.setdefault(output_key, _scratch(default_output))
    result = execute(subcommand, kwargs, progress=progress)
    return os.fspath(kwargs[output_key]), result.stdout


def run(depth: Optional[int] = None, widths: Any = None, data: Any = None, *, progress: bool = True, **options) -> Trajectory:
    """``gradflow run``: gradient flow. ``data`` is a file path or an (X, y) pair of arrays."""
    path, summary = _run("run", dict(depth=depth, widths=widths, data=data, **options), "run.h5", progress)
    return Trajectory(path, summary)


def descent(lr: Optional[float] = None, depth: Optional[int] = None, widths: Any = None, data: Any = None, *,
            progress: bool = True, **options) -> Trajectory:
    """``gradflow descent``: gradient descent with step ``lr``."""
    path, summary = _run("descent", dict(lr=lr, depth=depth, widths=widths, data=data, **options), "descent.h5", progress)
    return Trajectory(path, summary)


def compare(lr: Optional[float] = None, depth: Optional[int] = None, widths: Any = None, data: Any = None, *,
            progress: bool = True, **options) -> Comparison:
    """``gradflow compare``: flow and descent from the same start, compared at t = kη."""
    path, summary = _run("compare", dict(lr=lr, depth=depth, widths=widths, data=data, **options), "compare.h5", progress)
    return Comparison(path, summary)


def critical_lr(*, progress: bool = True, **options):
    """``gradflow critical-lr``: a pandas DataFrame with one row per (depth, seed) (the results file's
    columns; ``.attrs["path"]`` is the file)."""
    import pandas as pd
    if "data" in options:
        options["data"] = _data_file(options["data"])
    path, _ = _run("critical-lr", options, "critical-lr.h5", progress)
    with h5py.File(path, "r") as f:
        frame = pd.DataFrame({k: v[()] for k, v in f.items()
                              if isinstance(v, h5py.Dataset) and v.attrs.get("CLASS") != b"DIMENSION_SCALE"})
    for column in ("depth", "seed", "trials"):
        if column in frame:
            frame[column] = frame[column].astype("int64")
    frame.attrs["path"] = path
    return frame


def sweep(*, progress: bool = True, **options):
    """``gradflow sweep``: the pandas DataFrame of OUTDIR/summary.csv (``.attrs["output_dir"]`` is OUTDIR)."""
    import pandas as pd
    if "data" in options:
        options["data"] = _data_file(options["data"])
    options.setdefault("output_dir", tempfile.mkdtemp(prefix="gradflow-sweep-"))
    folder, _ = _run("sweep", options, "", progress, output_key="output_dir")
    frame = pd.read_csv(os.path.join(folder, "summary.csv"))
    frame.attrs["output_dir"] = folder
    return frame
