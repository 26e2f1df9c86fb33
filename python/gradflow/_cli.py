"""Running the gradflow binary: finding it, mapping keyword arguments to its options, errors, progress."""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence


class GradFlowError(RuntimeError):
    """The gradflow binary failed: ``message`` is its one-line error, ``exit_code`` its exit code
    (1 the computation failed or diverged, 2 bad input or usage, 130 interrupted)."""

    def __init__(self, message: str, exit_code: int, command: Sequence[str] = (), stderr: str = ""):
        super().__init__(f"{message} (exit code {exit_code})")
        self.message = message
        self.exit_code = exit_code
        self.command = list(command)
        self.stderr = stderr


def binary() -> str:
    """The gradflow executable: $GRADFLOW_BINARY, else `gradflow` on PATH, else the repository's
    .build/release/gradflow or .build/debug/gradflow (searched from this package and from the current folder)."""
    env = os.environ.get("GRADFLOW_BINARY")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise GradFlowError(f"GRADFLOW_BINARY={env}: not an executable file", 2)
        return env
    found = shutil.which("gradflow")
    if found:
        return found
    starts = [Path(__file__).resolve().parent, Path.cwd().resolve()]
    for start in starts:
        for folder in [start, *start.parents]:
            for config in ("release", "debug"):
                candidate = folder / ".build" / config / "gradflow"
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    return str(candidate)
    raise GradFlowError("the gradflow binary was not found: set GRADFLOW_BINARY, put gradflow on PATH, "
                        "or build it with `swift build -c release` in the repository", 2)


# An option's own line starts at column 2; the wrapped lines of a help text are indented further (and may
# begin with an option's name, as in "   --t-final is given); …").
_OPTION = re.compile(r"^ {2}(?:-\w, )?--([a-z0-9][a-z0-9-]*)(?: <([^>]+)>)?")


@functools.lru_cache(maxsize=None)
def options(subcommand: str, executable: Optional[str] = None) -> Dict[str, bool]:
    """The options of ``gradflow SUBCOMMAND`` read from its own --help: {"kebab-name": takes_a_value}."""
    exe = executable or binary()
    result = subprocess.run([exe, subcommand, "--help"], capture_output=True, text=True)
    if result.returncode != 0:
        raise GradFlowError(f"`gradflow {subcommand} --help` failed: {result.stderr.strip()}", result.returncode)
    found: Dict[str, bool] = {}
    for line in result.stdout.splitlines():
        m = _OPTION.match(line)
        if m and m.group(1) not in ("help", "version"):
            found.setdefault(m.group(1), m.group(2) is not None)
    return found


def _format(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_format(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def arguments(subcommand: str, kwargs: Dict[str, Any], executable: Optional[str] = None) -> List[str]:
    """Command-line arguments for keyword arguments: snake_case → --kebab-case, True → a flag (False
    and None: left out), lists → comma-joined. Unknown keywords raise TypeError listing the valid ones."""
    known = options(subcommand, executable)
    args: List[str] = []
    unknown = [k for k in kwargs if k.replace("_", "-") not in known]
    if unknown:
        valid = ", ".join(sorted(k.replace("-", "_") for k in known))
        raise TypeError(f"gradflow {subcommand}: unknown keyword argument(s) {', '.join(map(repr, unknown))}; "
                        f"valid ones (from `gradflow {subcommand} --help`): {valid}")
    for key, value in kwargs.items():
        name = "--" + key.replace("_", "-")
        if value is None:
            continue
        if isinstance(value, bool) and known[key.replace("_", "-")]:
            # An option with an optional value (--save-weights): True passes it alone, False leaves it out.
            if value:
                args.append(name)
            continue
        if not known[key.replace("_", "-")]:  # a flag
            if not isinstance(value, bool):
                raise TypeError(f"gradflow {subcommand}: {key} is a flag: pass True or False, not {value!r}")
            if value:
                args.append(name)
            continue
        args += [name, _format(value)]
    return args


def _progress_sink(show: bool) -> Callable[[Optional[str]], None]:
    """A function that shows one progress line (None: the end): a tqdm bar when tqdm is installed
    (it renders in notebooks), else a print to stderr."""
    if not show:
        return lambda line: None
    try:
        from tqdm.auto import tqdm  # type: ignore
    except ImportError:
        def echo(line: Optional[str]) -> None:
            if line:
                print(line, file=sys.stderr, flush=True)
        return echo
    bar = None
    pattern = re.compile(r"^t = (\S+) / (\S+)")

    def update(line: Optional[str]) -> None:
        nonlocal bar
        if line is None:
            if bar is not None:
                bar.close()
            return
        m = pattern.match(line)
        if m is None:
            (bar.write if bar is not None else tqdm.write)(line)
            return
        if bar is None:
            bar = tqdm(total=None, desc="gradflow", bar_format="{desc} {postfix}")
        bar.set_postfix_str(line, refresh=True)
    return update


def execute(subcommand: str, kwargs: Dict[str, Any], progress: bool = True) -> subprocess.CompletedProcess:
    """Runs ``gradflow SUBCOMMAND`` with options from ``kwargs``, streaming its stderr (progress) while it
    runs; returns the completed process (stdout: the summary). A non-zero exit raises GradFlowError."""
    exe = binary()
    command = [exe, subcommand, *arguments(subcommand, kwargs, exe)]
    show = _progress_sink(progress and not kwargs.get("quiet"))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    stderr_lines: List[str] = []

    def pump() -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            for line in raw.replace("\x1b[K", "").split("\r"):
                line = line.rstrip("\n")
                if line:
                    stderr_lines.append(line)
                    if not line.startswith("gradflow: error:"):
                        show(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        stdout = process.stdout.read() if process.stdout else ""
        code = process.wait()
    except KeyboardInterrupt:
        process.send_signal(2)  # SIGINT: the binary records status = interrupted and exits 130
        process.wait()
        raise
    finally:
        reader.join()
        show(None)
        for stream in (process.stdout, process.stderr):  # closed on every path (no ResourceWarning)
            if stream is not None:
                stream.close()
    stderr = "\n".join(stderr_lines)
    if code != 0:
        errors = [l[len("gradflow: error:"):].strip() for l in stderr_lines if l.startswith("gradflow: error:")]
        message = errors[0] if errors else (stderr_lines[-1] if stderr_lines else f"gradflow {subcommand} failed")
        raise GradFlowError(message, code, command, stderr)
    return subprocess.CompletedProcess(command, code, stdout, stderr)
