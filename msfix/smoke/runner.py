"""Run a MindSpore script briefly in a child process and report what happened.

The parent (this module) never imports MindSpore or NumPy. The child is the
chosen interpreter running the user's script directly (``python SCRIPT
ARGS...``; a notebook's code cells are first written as one script in the
temporary directory, see ``msfix.smoke.notebook``) with ``cwd`` set to a
fresh temporary directory and the msfix
bootstrap (``bootstrap/sitecustomize.py``) first on ``PYTHONPATH``. The
bootstrap patches MindSpore, writes a JSON result file, and this module turns
that into a :class:`SmokeReport`. The temporary directory is removed
afterwards, whatever happened.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

PACKAGE_DIR = Path(__file__).resolve().parent
BOOTSTRAP_DIR = PACKAGE_DIR / "bootstrap"
SYNTHETIC_MODULE = PACKAGE_DIR / "synthetic.py"
CRASH_MAP_PATH = PACKAGE_DIR / "crash_map.json"

OUTCOMES = ("passed", "crashed", "timed-out", "diverged", "no-steps")
DEVICES = ("CPU", "GPU", "Ascend")
INSTALL_HINT = "pip install 'msfix[smoke]'"
_ARTIFACT_SUFFIXES = (".ckpt", ".safetensors", ".mindir", ".air", ".onnx")
_BOOTSTRAP_EXIT = 70
#: The smoke batch cap: ``Dataset.batch(N)`` over msfix's synthetic data runs at
#: ``min(N, DEFAULT_BATCH_SIZE)`` (None runs the script's own batch size). A step of
#: mindcv's ResNet-50 at batch 32 costs about 3-4 times one at batch 8 on the 2-core CPU
#: (PyNative) and proves nothing more about whether the script runs. Batch 2 is too few
#: samples for BatchNorm: the seed's ResNet-50 loss went to inf at step 2. A crash or a
#: divergence after a capped batch is re-run at the script's batch size (see run_smoke).
DEFAULT_BATCH_SIZE = 8
DEFAULT_STEPS = 3
DEFAULT_EVAL_STEPS = 1  # batches per Model.eval (and Model.fit's validation)


class SmokeUnavailable(RuntimeError):
    """The chosen interpreter cannot run a smoke test (no MindSpore, or no such interpreter)."""

    def __init__(self, message: str, python: str):
        super().__init__(message)
        self.python = python


class SmokeRefused(SmokeUnavailable):
    """The file cannot be run (a notebook with a cell that does not parse, or no code)."""

    def __init__(self, message: str):
        super().__init__(message, "")


@dataclass
class SmokeReport:
    script: str
    outcome: str
    exception_type: str | None = None
    message: str | None = None
    script_line: int | None = None
    cell: int | None = None  # a notebook: script_line counts within this cell
    rule_code: str | None = None
    rule_title: str | None = None
    wall_time: float = 0.0
    steps: int = 0
    train_steps: int = 0
    loop_steps: int = 0
    first_loss: float | None = None
    last_loss: float | None = None
    losses: list = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    eval_metrics: dict | None = None
    device: dict = field(default_factory=dict)
    datasets: list = field(default_factory=list)
    redirected_paths: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    cap_stop: dict | None = None  # the run was ended where the script needs what only a full run writes
    batch_size: int | None = None  # the smoke batch cap asked for (None: the script's batch size)
    batch_caps: list = field(default_factory=list)  # {"script": 32, "smoke": 2, "script_line": N} per batch() capped
    timings: dict = field(default_factory=dict)  # seconds per part of the run, see _timings
    network: dict | None = None  # what the first Model.train trained: class, sub-cell classes, parameters
    capped_run: dict | None = None  # the crash at the capped batch, when the report is the re-run's
    returncode: int | None = None
    timeout: float | None = None
    python: str = ""
    stdout: str = ""
    stderr: str = ""

    @property
    def location(self) -> str | None:
        if self.script_line is None:
            return None
        if self.cell is not None:
            return f"{self.script}:cell {self.cell}:{self.script_line}"
        return f"{self.script}:{self.script_line}"

    @property
    def ok(self) -> bool:
        return self.outcome == "passed"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["location"] = self.location
        return data


# ---------------------------------------------------------------------------
# crash map


@lru_cache(maxsize=1)
def load_crash_map() -> tuple[dict, ...]:
    with open(CRASH_MAP_PATH, encoding="utf-8") as fh:
        data = json.load(fh)
    entries = []
    for entry in data["entries"]:
        entry = dict(entry)
        entry["regex"] = re.compile(entry["pattern"], re.S)
        entries.append(entry)
    return tuple(entries)


def match_crash(exception_type: str | None, message: str | None) -> dict | None:
    """The first crash-map entry matching ``"ExcType: message"``, or None."""
    if not exception_type:
        return None
    text = f"{exception_type}: {message or ''}"
    for entry in load_crash_map():
        if entry["regex"].search(text):
            return entry
    return None


# ---------------------------------------------------------------------------
# interpreter checks


def check_interpreter(python: str) -> None:
    """Raise :class:`SmokeUnavailable` unless ``python`` can import MindSpore.

    Uses ``importlib.util.find_spec`` in the interpreter, so MindSpore is not
    imported (cheap).
    """
    probe = "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('mindspore') else 3)"
    try:
        proc = subprocess.run(
            [python, "-c", probe],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SmokeUnavailable(
            f"cannot run Python interpreter {python!r} ({exc.__class__.__name__}); "
            f"pass --python with an interpreter that has MindSpore: {INSTALL_HINT}",
            python,
        ) from None
    if proc.returncode != 0:
        raise SmokeUnavailable(
            f"MindSpore is not installed in {python}; install it with: {INSTALL_HINT}",
            python,
        )


# ---------------------------------------------------------------------------
# running


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _scan_artifacts(workdir: Path) -> list[str]:
    found = []
    for root, _dirs, files in os.walk(workdir):
        for name in files:
            if name.endswith(_ARTIFACT_SUFFIXES):
                found.append(os.path.relpath(os.path.join(root, name), workdir))
    return sorted(found)


def _numbers(losses: Sequence) -> list[float]:
    out = []
    for value in losses:
        if isinstance(value, (int, float)):
            out.append(float(value))
        else:  # 'nan', 'inf', '-inf' as repr strings
            try:
                out.append(float(value))
            except (TypeError, ValueError):
                pass
    return out


def run_smoke(
    script: os.PathLike | str,
    *,
    device: str = "CPU",
    steps: int = DEFAULT_STEPS,
    epochs: int = 1,
    eval_steps: int = DEFAULT_EVAL_STEPS,
    batch_size: int | None = DEFAULT_BATCH_SIZE,
    rerun_at_script_batch: bool = True,
    timeout: float = 300.0,
    python: str | None = None,
    script_args: Sequence[str] = (),
    allow_host_workers: bool = True,
    env: dict[str, str] | None = None,
    extra_path: Sequence[os.PathLike | str] = (),
    progress: Callable[[dict], None] | None = None,
) -> SmokeReport:
    """Smoke-test ``script`` and return a :class:`SmokeReport`.

    ``allow_host_workers``: a ``num_parallel_workers`` larger than this host's
    CPU count is let through (with a note, MS202) instead of raising, since the
    script is usually meant for a bigger training host.
    ``env``: extra environment variables for the child.
    ``extra_path``: directories put on the child's ``PYTHONPATH`` (after the
    bootstrap), e.g. the original script's directory when smoking a fixed
    copy elsewhere, so its sibling imports still resolve.
    ``batch_size``: the smoke batch cap: ``Dataset.batch(N)`` over msfix's synthetic
    data (every source of the pipeline is a redirected reader; the script's own data
    keeps its batch) runs at ``min(N, batch_size)``; None runs the script's batch size.
    A run that crashed or diverged after a batch was capped is run again at the
    script's batch size (``rerun_at_script_batch``) and that run is the report (the
    capped one is summed up in ``capped_run``; ``timeout`` applies to each run).
    ``eval_steps``: batches per ``Model.eval`` (and ``Model.fit``'s validation).
    ``progress``: called about five times a second while the child runs, with
    ``{"elapsed", "phase", "steps", "loss"}`` (for a live display).
    A ``.ipynb`` runs its code cells in order as one script (crash lines are
    reported as ``cell N:line``).
    Raises :class:`SmokeUnavailable` when the interpreter lacks MindSpore,
    :class:`SmokeRefused` for a notebook that cannot be run,
    ``FileNotFoundError`` when the script does not exist.
    """
    script_path = Path(script)
    if not script_path.is_file():
        raise FileNotFoundError(f"no such script: {script}")
    script_abs = script_path.resolve()
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if steps < 1 or epochs < 1 or eval_steps < 1:
        raise ValueError("steps, eval_steps and epochs must be at least 1")
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1 (or None: the script's batch size)")
    notebook = None
    if script_path.suffix.lower() == ".ipynb":
        from msfix.smoke.notebook import NotRunnable, notebook_script

        try:
            notebook = notebook_script(script_path)
        except NotRunnable as exc:
            raise SmokeRefused(f"{script}: cannot run this notebook: {exc}") from None
        extra_path = [script_abs.parent, *extra_path]  # the notebook's sibling modules
    python = python or sys.executable
    check_interpreter(python)

    kwargs: dict[str, Any] = dict(
                  script_path=script_path, script_abs=script_abs, notebook=notebook, device=device, steps=steps,
                  epochs=epochs, eval_steps=eval_steps, timeout=timeout, python=python, script_args=script_args,
                  allow_host_workers=allow_host_workers, env=env, extra_path=extra_path, progress=progress)
    report = _run_once(batch_size=batch_size, **kwargs)
    if report.outcome in ("crashed", "diverged") and report.batch_caps and rerun_at_script_batch:
        # the crash may be the cap's doing (code written for the script's batch size; BatchNorm
        # over a few samples): the script's own batch size decides
        capped = report
        report = _run_once(batch_size=None, **kwargs)
        report.capped_run = {
            "batch_caps": capped.batch_caps,
            "outcome": capped.outcome,
            "exception_type": capped.exception_type,
            "message": capped.message,
            "script_line": capped.script_line,
            "cell": capped.cell,
            "location": capped.location,
            "wall_time": capped.wall_time,
        }
        report.batch_size = batch_size
        report.wall_time = round(report.wall_time + capped.wall_time, 3)
    return report


def _run_once(
    *,
    script_path: Path,
    script_abs: Path,
    notebook,
    device: str,
    steps: int,
    epochs: int,
    eval_steps: int,
    timeout: float,
    python: str,
    script_args: Sequence[str],
    allow_host_workers: bool,
    env: dict[str, str] | None,
    extra_path: Sequence[os.PathLike | str],
    progress: Callable[[dict], None] | None,
    batch_size: int | None,
) -> SmokeReport:
    tmp_root = Path(tempfile.mkdtemp(prefix="msfix-smoke-"))
    try:
        workdir = tmp_root / "work"
        child_tmp = tmp_root / "tmp"
        data_dir = tmp_root / "data"
        for d in (workdir, child_tmp, data_dir):
            d.mkdir()
        result_path = tmp_root / "result.json"
        run_path = script_abs
        if notebook is not None:  # in a folder of its own: sys.path[0] must not see work/, data/
            (tmp_root / "notebook").mkdir()
            run_path = tmp_root / "notebook" / (script_path.stem + ".py")
            run_path.write_text(notebook.text, encoding="utf-8")
        config = {
            "script": str(run_path),
            "workdir": str(workdir),
            "data_dir": str(data_dir),
            "result_path": str(result_path),
            "synthetic_module": str(SYNTHETIC_MODULE),
            "device": device,
            "steps": int(steps),
            "epochs": int(epochs),
            "eval_steps": int(eval_steps),
            "batch_size": None if batch_size is None else int(batch_size),
            "allow_host_workers": bool(allow_host_workers),
        }
        config_path = tmp_root / "config.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")

        child_env = dict(os.environ)
        for key in ("MSFIX_SMOKE_ACTIVE", "PYTHONSAFEPATH", "PYTHONSTARTUP", "PYTHONINSPECT"):
            child_env.pop(key, None)
        child_env.update(env or {})
        old_path = child_env.get("PYTHONPATH")
        path_entries = [str(BOOTSTRAP_DIR), *(os.fspath(p) for p in extra_path)]
        if old_path:
            path_entries.append(old_path)
        child_env["PYTHONPATH"] = os.pathsep.join(path_entries)
        child_env["MSFIX_SMOKE_CONFIG"] = str(config_path)
        child_env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ next to the user's files
        child_env["PYTHONUNBUFFERED"] = "1"
        for key in ("TMPDIR", "TEMP", "TMP"):
            child_env[key] = str(child_tmp)
        if notebook is not None:
            child_env.setdefault("MPLBACKEND", "Agg")  # plt.show() must not wait for a window

        cmd = [python, str(run_path), *map(str, script_args)]
        start = time.monotonic()
        proc = subprocess.Popen(
            cmd,
            cwd=workdir,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        timed_out = False
        try:
            if progress is None:
                try:
                    out, err = proc.communicate(timeout=timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    _kill_group(proc.pid)
                    out, err = proc.communicate()
            else:
                out, err, timed_out = _watch(proc, timeout, start, result_path, progress)
        finally:
            _kill_group(proc.pid)  # stray grandchildren of the script
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        wall = time.monotonic() - start

        try:
            result = json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            result = None
        report = _build_report(
            script=str(script_path),
            result=result,
            returncode=proc.returncode,
            timed_out=timed_out,
            timeout=timeout,
            wall=wall,
            stdout=out.decode("utf-8", "replace"),
            stderr=err.decode("utf-8", "replace"),
            python=python,
        )
        report.checkpoints = _scan_artifacts(workdir)
        report.batch_size = batch_size
        if notebook is not None and report.script_line is not None:
            report.cell, report.script_line = notebook.locate(report.script_line)
        if notebook is not None and report.cap_stop and report.cap_stop.get("script_line") is not None:
            cell, line = notebook.locate(report.cap_stop["script_line"])
            report.cap_stop["cell"], report.cap_stop["script_line"] = cell, line
        return report
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)


def _snapshot(result_path: Path, elapsed: float) -> dict:
    """What the child's result file says so far, for a live display."""
    try:
        result = json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = None
    if not result:
        return {"elapsed": elapsed, "phase": "starting", "steps": 0, "loss": None}
    steps = int(result.get("train_steps", 0)) + int(result.get("loop_steps", 0))
    losses = _numbers(result.get("losses") or [])
    phase = result.get("phase")
    if phase in ("bootstrap", "bootstrap-failed"):
        phase = "importing MindSpore"
    elif phase == "exit":
        phase = "finished"
    elif steps:
        phase = "training"
    else:
        phase = "running the script"
    return {"elapsed": elapsed, "phase": phase, "steps": steps, "loss": losses[-1] if losses else None}


def _watch(proc, timeout: float, start: float, result_path: Path, progress) -> tuple:
    """communicate() that calls ``progress`` while waiting: (stdout, stderr, timed_out)."""
    chunks: dict = {}

    def drain(name, stream):
        chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, f), daemon=True)
               for n, f in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    timed_out = False
    while True:
        try:
            proc.wait(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() - start >= timeout:
                timed_out = True
                _kill_group(proc.pid)
                proc.wait()
                break
        try:
            progress(_snapshot(result_path, time.monotonic() - start))
        except Exception:  # a display problem never ends the run
            pass
    try:
        progress(_snapshot(result_path, time.monotonic() - start))
    except Exception:
        pass
    for t in readers:
        t.join(timeout=5)
    _kill_group(proc.pid)  # a grandchild still holding the pipes
    for t in readers:
        t.join()
    return chunks.get("out", b""), chunks.get("err", b""), timed_out


def _timings(raw: dict, wall: float) -> dict:
    """Seconds per part of the run, from the child's ``timings``: ``startup``
    (MindSpore's import and msfix's patches), ``synthetic_data``, ``train``
    (Model.train/fit calls), ``first_step`` (from the start of the first Model.train to
    its first step's end: pipeline start and graph build included), ``step`` (median
    of the later steps, Model or custom loop), ``eval`` (Model.eval calls),
    ``checkpoint_save`` (within train); ``other`` is the rest of the wall time (the
    interpreter's start, the script's own code such as building the network, exit)."""
    if not raw:
        return {}
    out = {}
    for key in ("bootstrap", "synthetic_data", "train", "first_step", "eval", "checkpoint_save"):
        value = raw.get(key)
        if isinstance(value, (int, float)):
            out["startup" if key == "bootstrap" else key] = round(float(value), 2)
    steps = sorted(x for x in raw.get("step_times") or [] if isinstance(x, (int, float)))
    if steps:
        out["step"] = round(steps[len(steps) // 2], 2)
        out["later_steps"] = len(steps)
    accounted = sum(out.get(k, 0.0) for k in ("startup", "synthetic_data", "train", "eval"))
    out["other"] = round(max(0.0, wall - accounted), 2)
    return out


def _build_report(
    *,
    script: str,
    result: dict | None,
    returncode: int | None,
    timed_out: bool,
    timeout: float,
    wall: float,
    stdout: str,
    stderr: str,
    python: str,
) -> SmokeReport:
    report = SmokeReport(
        script=script,
        outcome="passed",
        wall_time=round(wall, 3),
        returncode=returncode,
        timeout=timeout,
        python=python,
        stdout=stdout,
        stderr=stderr,
    )
    result = result or {}
    report.train_steps = int(result.get("train_steps", 0))
    report.loop_steps = int(result.get("loop_steps", 0))
    report.steps = report.train_steps + report.loop_steps
    losses = _numbers(result.get("losses", []))
    report.losses = [x if math.isfinite(x) else str(x) for x in losses]
    if losses:
        report.first_loss = losses[0]
        report.last_loss = losses[-1]
    report.eval_metrics = result.get("eval_metrics")
    report.device = result.get("device") or {}
    report.datasets = result.get("datasets") or []
    report.redirected_paths = result.get("redirected_paths") or []
    report.notes = list(result.get("notes") or [])
    report.cap_stop = result.get("cap_blame")
    report.batch_caps = list(result.get("batch_caps") or [])
    report.network = result.get("network")
    report.timings = _timings(result.get("timings") or {}, wall)

    exc = result.get("exception")
    if exc:
        report.exception_type = exc.get("type")
        report.message = exc.get("message")
        report.script_line = exc.get("script_line")
        if exc.get("phase") == "bootstrap":
            report.notes.append({"text": "failed while msfix set up the run (before the script started)", "rule": None})

    if timed_out:
        report.outcome = "timed-out"
        report.message = report.message or f"no result after {timeout:g} s; the process group was killed"
        return report

    entry = match_crash(report.exception_type, report.message)
    if entry is not None:
        report.rule_code = entry.get("rule")
        report.rule_title = entry.get("title")

    nonfinite = result.get("nonfinite_loss")
    if nonfinite or any(not math.isfinite(x) for x in losses):
        report.outcome = "diverged"
        step = (nonfinite or {}).get("step")
        report.notes.append(
            {
                "text": "loss became NaN/inf"
                + (f" at step {step}" if isinstance(step, int) else "")
                + ": a hyperparameter finding (learning rate, momentum, loss scale), not a crash",
                "rule": None,
            }
        )
        return report

    if report.exception_type:
        report.outcome = (entry or {}).get("outcome") or "crashed"
        return report

    if returncode not in (0, None):
        report.outcome = "crashed"
        if returncode < 0:
            try:
                name = signal.Signals(-returncode).name
            except ValueError:
                name = f"signal {-returncode}"
            report.exception_type = name
            report.message = f"the script was killed by {name}"
        elif not result:
            report.exception_type = "SmokeError"
            report.message = f"the child exited with code {returncode} without a result"
        else:
            report.exception_type = "SystemExit"
            report.message = f"the script exited with code {returncode}"
        return report

    if not result.get("finished"):
        report.outcome = "crashed"
        report.exception_type = "SmokeError"
        report.message = "the script ended without the smoke bootstrap seeing its exit (os._exit?)"
        return report

    if report.steps == 0:
        report.outcome = "no-steps"
        report.message = "the script finished but no training step ran"
        return report
    return report
