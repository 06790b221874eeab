"""Patches installed in the msfix smoke child before the user's script runs.

Loaded by the bootstrap ``sitecustomize``; never imported by msfix itself.
Everything here runs in the child interpreter, the one that has MindSpore.

What it does, without editing the script:
- sets the device (``mindspore.set_device``, or ``set_context(device_target=)``
  where ``set_device`` does not exist) and turns the script's own device
  requests into records;
- points the dataset readers (CIFAR-10/100, MNIST, Fashion-MNIST, KMNIST,
  ImageFolder) at synthetic data in their real on-disk formats;
- caps epochs and steps of ``Model.train``/``Model.eval``/``Model.fit`` (fewer
  epochs, ``dataset.take(steps)``; evaluation ``take(eval_steps)``) and of custom loops over
  ``create_tuple_iterator``/``create_dict_iterator`` (each pass over a dataset
  yields at most ``steps`` items; when a pass beyond ``epochs`` starts, or a
  ``Model.train`` call beyond ``epochs`` epochs, the script is ended cleanly
  with exit status 0 and a note, since empty passes would make the script's
  own averages divide by zero);
- caps the batch size of ``Dataset.batch(N)`` over msfix's synthetic data
  (every source of the pipeline is a redirected reader) at the smoke batch
  size (``batch_size`` in the config; None: the script's own), recorded in
  ``batch_caps``;
- times the run's parts (``timings``: bootstrap, synthetic data, train with
  the first step and the later ones, eval, checkpoint saving);
- lowers ``num_parallel_workers`` above this host's CPU count (noted, MS202);
- redirects checkpoint paths outside the smoke working directory into it;
- knows which checkpoints the capped run can write: loading a missing
  ``{prefix}-{epoch}_{step}.ckpt`` of a ``ModelCheckpoint`` of this run whose
  epoch or step lies beyond the caps is the caps' doing (only the full run
  writes it), so the script is ended cleanly there with a note, not blamed;
- records per-step losses, eval metrics, notes and the uncaught exception, and
  writes them as JSON to the result file the parent reads.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import inspect
import json
import math
import os
import sys
import threading
import time
import traceback

_MAX_LOSSES = 2000


class _State:
    def __init__(self, config: dict):
        self.config = config
        self.pid = os.getpid()
        self.result_path = config["result_path"]
        self.script = os.path.realpath(config["script"])
        self.workdir = os.path.realpath(config["workdir"])
        self.data_dir = config["data_dir"]
        self.steps_cap = int(config["steps"])
        self.eval_steps_cap = int(config.get("eval_steps") or self.steps_cap)
        self.epochs_cap = int(config["epochs"])
        self.device = config["device"]
        cap = config.get("batch_size")
        self.batch_cap = int(cap) if isinstance(cap, int) and cap >= 1 else None
        self.t0 = time.monotonic()
        self.step_begin = None
        self.train_start = None
        self.lock = threading.RLock()
        self.in_model = 0
        self.result = {
            "version": 1,
            "phase": "bootstrap",
            "device": {"requested": self.device, "call": None, "script_requests": []},
            "train_steps": 0,
            "loop_steps": 0,
            "train_calls": 0,
            "eval_calls": 0,
            "losses": [],
            "losses_dropped": 0,
            "nonfinite_loss": None,
            "eval_metrics": None,
            "datasets": [],
            "redirected_paths": [],
            "notes": [],
            "exception": None,
            "finished": False,
            "batch_caps": [],
            "timings": {"bootstrap": None, "synthetic_data": 0.0, "train": 0.0, "first_step": None,
                        "step_times": [], "eval": 0.0, "checkpoint_save": 0.0},
        }
        self.passes: dict[int, int] = {}  # completed passes per dataset object
        self.keep_alive: list = []
        self.model_epochs = 0  # epochs run by Model.train/fit so far
        self.synthetic = None
        self.written: dict[str, set] = {}
        self.path_map: dict[str, str] = {}
        self.last_flush = 0.0
        self.ckpt_writers: list[tuple] = []  # (directory realpath or None, prefixes) of ModelCheckpoints

    # -- result file -----------------------------------------------------
    def flush(self, force: bool = True) -> None:
        if os.getpid() != self.pid:
            return
        now = time.monotonic()
        if not force and now - self.last_flush < 0.5:
            return
        self.last_flush = now
        tmp = self.result_path + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(self.result, fh, default=str)
            os.replace(tmp, self.result_path)
        except OSError:
            pass

    def add_time(self, key: str, start: float) -> None:
        timings = self.result["timings"]
        timings[key] = round(timings[key] + time.monotonic() - start, 3)

    def note(self, text: str, rule: str | None = None) -> None:
        entry = {"text": text, "rule": rule}
        if entry not in self.result["notes"]:
            self.result["notes"].append(entry)

    def record_loss(self, value) -> None:
        loss = _as_float(value)
        if loss is None:
            return
        with self.lock:
            if not math.isfinite(loss) and self.result["nonfinite_loss"] is None:
                self.result["nonfinite_loss"] = {
                    "value": repr(loss),
                    "step": self.result["train_steps"] + self.result["loop_steps"],
                }
            losses = self.result["losses"]
            if len(losses) >= _MAX_LOSSES:
                # keep the first half and a sliding tail
                del losses[_MAX_LOSSES // 2]
                self.result["losses_dropped"] += 1
            losses.append(loss if math.isfinite(loss) else repr(loss))

    # -- paths -------------------------------------------------------------
    def inside_workdir(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self.workdir or real.startswith(self.workdir + os.sep)

    def redirect(self, path, kind: str):
        """Map a path outside the working directory to one inside it."""
        if path is None or not isinstance(path, (str, os.PathLike)):
            return path
        text = os.fspath(path)
        if self.inside_workdir(text):
            return path
        real = os.path.realpath(text)
        target = os.path.join(self.workdir, "_redirected", real.lstrip(os.sep))
        self.path_map[real] = target
        entry = {"kind": kind, "original": text, "redirected": os.path.relpath(target, self.workdir)}
        if entry not in self.result["redirected_paths"]:
            self.result["redirected_paths"].append(entry)
        return target


_STATE: _State | None = None


def _as_float(value):
    try:
        if isinstance(value, (tuple, list)):
            if not value:
                return None
            value = value[0]
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return float(value)
        if hasattr(value, "asnumpy"):
            value = value.asnumpy()
        if hasattr(value, "size") and hasattr(value, "reshape"):
            if value.size != 1:
                return None
            return float(value.reshape(-1)[0])
    except Exception:
        return None
    return None


def _load_synthetic(path: str):
    spec = importlib.util.spec_from_file_location("_msfix_smoke_synthetic", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replace_everywhere(original, replacement, prefix: str = "mindspore") -> int:
    """Rebind every module attribute under ``prefix`` that is ``original``."""
    count = 0
    for name, module in list(sys.modules.items()):
        if module is None or not (name == prefix or name.startswith(prefix + ".")):
            continue
        try:
            namespace = vars(module)
        except TypeError:
            continue
        for attr, value in list(namespace.items()):
            if value is original:
                try:
                    setattr(module, attr, replacement)
                    count += 1
                except Exception:
                    pass
    return count


# ---------------------------------------------------------------------------
# exception capture and exit


def _script_frame(tb):
    script_line = None
    frames = []
    for frame_summary in traceback.extract_tb(tb):
        frames.append([frame_summary.filename, frame_summary.lineno, frame_summary.name])
        try:
            if os.path.realpath(frame_summary.filename) == _STATE.script:
                script_line = frame_summary.lineno
        except Exception:
            pass
    return script_line, frames


def _record_exception(exc_type, exc, tb, phase: str) -> None:
    script_line, frames = _script_frame(tb)
    _STATE.result["exception"] = {
        "type": getattr(exc_type, "__name__", str(exc_type)),
        "qualname": f"{getattr(exc_type, '__module__', '')}.{getattr(exc_type, '__qualname__', '')}",
        "message": str(exc),
        "script_line": script_line,
        "frames": frames[-30:],
        "phase": phase,
    }


def _excepthook(exc_type, exc, tb):
    try:
        if _STATE is not None and os.getpid() == _STATE.pid:
            _record_exception(exc_type, exc, tb, "script")
            _STATE.flush()
    finally:
        _ORIGINAL_EXCEPTHOOK(exc_type, exc, tb)


_ORIGINAL_EXCEPTHOOK = sys.excepthook


def _at_exit():
    if _STATE is None or os.getpid() != _STATE.pid:
        return
    _STATE.result["finished"] = True
    _STATE.result["phase"] = "exit"
    _STATE.flush()


# ---------------------------------------------------------------------------
# device


def _install_device(ms) -> None:
    device = _STATE.device
    info = _STATE.result["device"]
    if hasattr(ms, "set_device"):
        info["call"] = f"mindspore.set_device({device!r})"
        _STATE.flush()
        ms.set_device(device)
    else:
        info["call"] = f"mindspore.set_context(device_target={device!r})"
        _STATE.flush()
        ms.set_context(device_target=device)
    info["set"] = True

    if hasattr(ms, "set_device"):
        real_set_device = ms.set_device

        @functools.wraps(real_set_device)
        def set_device(device_target, device_id=None):
            info["script_requests"].append(
                {"call": "set_device", "device_target": device_target, "device_id": device_id}
            )
            if device_target != device:
                _STATE.note(
                    f"script asked for device {device_target!r}; smoke run uses {device!r}"
                )
            return None

        _replace_everywhere(real_set_device, set_device)

    real_set_context = ms.set_context

    @functools.wraps(real_set_context)
    def set_context(**kwargs):
        asked = {k: kwargs.pop(k) for k in ("device_target", "device_id") if k in kwargs}
        if asked:
            info["script_requests"].append({"call": "set_context", **asked})
            target = asked.get("device_target")
            if target is not None and target != device:
                _STATE.note(f"script asked for device {target!r}; smoke run uses {device!r}")
        if kwargs:
            return real_set_context(**kwargs)
        return None

    _replace_everywhere(real_set_context, set_context)


# ---------------------------------------------------------------------------
# datasets

_READERS = {
    # class name: (synthetic kind, takes usage)
    "Cifar10Dataset": ("cifar10", True),
    "Cifar100Dataset": ("cifar100", True),
    "MnistDataset": ("mnist", True),
    "FashionMnistDataset": ("fashion_mnist", True),
    "KMnistDataset": ("kmnist", True),
    "ImageFolderDataset": ("image_folder", False),
}


def _splits_for(usage) -> tuple:
    if usage in ("train", "test"):
        return (usage,)
    return ("train", "test")


def _synthetic_dir(kind: str, usage, bound) -> str:
    start = time.monotonic()
    try:
        return _write_synthetic(kind, usage, bound)
    finally:
        _STATE.add_time("synthetic_data", start)


def _write_synthetic(kind: str, usage, bound) -> str:
    syn = _STATE.synthetic
    base = os.path.join(_STATE.data_dir, kind)
    with _STATE.lock:
        if kind == "image_folder":
            class_indexing = bound.get("class_indexing")
            extensions = bound.get("extensions")
            if isinstance(class_indexing, dict) and class_indexing:
                classes = [name for name, _ in sorted(class_indexing.items(), key=lambda kv: kv[1])]
            else:
                classes = _STATE.config.get("image_classes", 4)
            ext = extensions[0] if extensions else ".png"
            key = repr((classes, ext))
            index = _STATE.written.setdefault("image_folder_keys", {})
            if key not in index:
                index[key] = os.path.join(base, f"v{len(index)}")
                syn.write_image_folder(
                    index[key],
                    classes=classes,
                    images_per_class=int(_STATE.config.get("images_per_class", 128)),
                    extension=ext,
                )
            return index[key]
        done = _STATE.written.setdefault(kind, set())
        missing = tuple(s for s in _splits_for(usage) if s not in done)
        if missing:
            if kind == "cifar10":
                syn.write_cifar10(base, splits=missing)
            elif kind == "cifar100":
                syn.write_cifar100(base, splits=missing)
            else:
                seed = {"mnist": 0, "fashion_mnist": 7, "kmnist": 11}[kind]
                syn.write_mnist(
                    base,
                    splits=missing,
                    seed=seed,
                    train_records=int(_STATE.config.get("mnist_train", 60000)),
                    test_records=int(_STATE.config.get("mnist_test", 10000)),
                )
            done.update(missing)
        return base


def _patch_reader(cls, kind: str, takes_usage: bool) -> None:
    original_init = cls.__init__
    try:
        signature = inspect.signature(original_init)
    except (TypeError, ValueError):
        return

    @functools.wraps(original_init)
    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            return original_init(self, *args, **kwargs)
        arguments = bound.arguments
        usage = arguments.get("usage") if takes_usage else None
        original_dir = arguments.get("dataset_dir")
        arguments["dataset_dir"] = _synthetic_dir(kind, usage, arguments)
        _STATE.result["datasets"].append(
            {"reader": cls.__name__, "original_dir": str(original_dir), "usage": usage, "synthetic": kind}
        )
        out = original_init(*bound.args, **bound.kwargs)
        try:
            self._msfix_synthetic = True  # a source the smoke batch cap may apply to
        except Exception:
            pass
        return out

    cls.__init__ = __init__


def _lenient_workers(original):
    @functools.wraps(original)
    def check_num_parallel_workers(value):
        try:
            return original(value)
        except ValueError:
            if isinstance(value, int) and value > (os.cpu_count() or 1):
                _note_workers(value)
                return None
            raise

    return check_num_parallel_workers


class _SmokeStop(SystemExit):
    """Ends the script cleanly (exit status 0) once the epoch cap is reached."""


def _stop_script(reason: str, when: str = "after the epoch cap") -> None:
    _STATE.result["stopped"] = reason
    _STATE.note(f"stopped the script {when}: {reason}; code after that point did not run")
    _STATE.flush()
    raise _SmokeStop(0)


def _dataset_label(dataset) -> str:
    return f"{type(dataset).__name__} object at 0x{id(dataset):x}"


class _CountingIterator:
    """Proxy over a MindSpore iterator: counts batches and completed passes.

    The iterator runs over ``dataset.take(steps)``, so each pass yields at most
    ``steps`` items; when a pass would start beyond the epoch cap (an iterator
    reused for several epochs), the script is stopped cleanly.
    """

    def __init__(self, inner, dataset):
        self._inner = inner
        self._dataset = dataset
        self._pass_open = False
        self._last = None  # when the previous item of this pass was handed out

    def __iter__(self):
        return self

    def __next__(self):
        if not self._pass_open:
            if _STATE.passes.get(id(self._dataset), 0) >= _STATE.epochs_cap:
                _stop_script(f"pass {_STATE.epochs_cap + 1} over {_dataset_label(self._dataset)}")
            self._pass_open = True
        try:
            item = next(self._inner)
        except StopIteration:
            self._pass_open = False
            self._last = None
            key = id(self._dataset)
            _STATE.passes[key] = _STATE.passes.get(key, 0) + 1
            raise
        now = time.monotonic()
        if self._last is not None and len(_STATE.result["timings"]["step_times"]) < _MAX_LOSSES:
            _STATE.result["timings"]["step_times"].append(round(now - self._last, 3))
        self._last = now
        _STATE.result["loop_steps"] += 1
        _STATE.flush(force=False)
        return item

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _note_workers(value: int) -> None:
    cpus = os.cpu_count() or 1
    _STATE.note(
        f"num_parallel_workers={value} exceeds this host's {cpus} CPUs (MindSpore raises ValueError "
        f"on such a host); the smoke run used {cpus}",
        "MS202",
    )


def _clamp_workers(dataset) -> None:
    """Lower ``num_parallel_workers`` above this host's CPU count, in the whole tree.

    MindSpore checks the count again in C++ when the pipeline is built, so the
    value itself must fit this host; the script's value is kept in a note.
    """
    if not _STATE.config.get("allow_host_workers", True):
        return
    cpus = os.cpu_count() or 1
    stack, seen = [dataset], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        workers = getattr(node, "num_parallel_workers", None)
        if isinstance(workers, int) and not isinstance(workers, bool) and workers > cpus:
            node.num_parallel_workers = cpus
            _note_workers(workers)
        stack.extend(getattr(node, "children", None) or [])


def _detach(dataset, consumer) -> None:
    """Forget ``consumer`` as a parent of ``dataset`` once its tree is built.

    MindSpore refuses pipelines where one node has two consumers; the ``take``
    node msfix adds must not count against a later ``dataset.batch(...)``.
    """
    parents = getattr(dataset, "parent", None)
    if isinstance(parents, list):
        dataset.parent = [ref for ref in parents if ref() is not consumer]


def _patch_iterators(Dataset) -> None:
    for method in ("create_tuple_iterator", "create_dict_iterator"):
        original = getattr(Dataset, method)

        def make(original=original):
            @functools.wraps(original)
            def wrapper(self, *args, **kwargs):
                if _STATE.in_model:
                    return original(self, *args, **kwargs)
                key = id(self)
                if key not in _STATE.passes:
                    _STATE.passes[key] = 0
                    _STATE.keep_alive.append(self)  # ids must stay unique
                if _STATE.passes[key] >= _STATE.epochs_cap:
                    _stop_script(f"pass {_STATE.epochs_cap + 1} over {_dataset_label(self)}")
                _clamp_workers(self)
                taken = self.take(_STATE.steps_cap)
                try:
                    inner = original(taken, *args, **kwargs)
                finally:
                    _detach(self, taken)
                return _CountingIterator(inner, self)

            return wrapper

        setattr(Dataset, method, make())


def _synthetic_only(dataset) -> bool:
    """Every source (leaf) of the pipeline ending at ``dataset`` is a redirected reader."""
    stack, seen, leaves = [dataset], set(), 0
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        children = getattr(node, "children", None) or []
        if children:
            stack.extend(children)
            continue
        if not getattr(node, "_msfix_synthetic", False):
            return False
        leaves += 1
    return leaves > 0


def _patch_batch(Dataset) -> None:
    """``batch(N)`` over synthetic data only: N above the smoke batch cap becomes the cap.

    The script's own data (NumpySlicesDataset, GeneratorDataset, ...) keeps its
    batch size, so a batch larger than that data stays a finding (MS207).
    """
    if _STATE.batch_cap is None:
        return
    original = Dataset.batch
    try:
        signature = inspect.signature(original)
    except (TypeError, ValueError):
        return

    @functools.wraps(original)
    def batch(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            return original(self, *args, **kwargs)
        size = bound.arguments.get("batch_size")
        cap = _STATE.batch_cap
        if isinstance(size, int) and not isinstance(size, bool) and size > cap and _synthetic_only(self):
            bound.arguments["batch_size"] = cap
            _STATE.result["batch_caps"].append({"script": size, "smoke": cap, "script_line": _script_line_here()})
        return original(*bound.args, **bound.kwargs)

    Dataset.batch = batch


# ---------------------------------------------------------------------------
# Model.train / eval / fit


def _patch_model(ms) -> None:
    from mindspore.train import Model
    from mindspore.train.callback import Callback

    class _SmokeCallback(Callback):
        def on_train_step_begin(self, run_context):
            _STATE.step_begin = time.monotonic()

        def on_train_step_end(self, run_context):
            now = time.monotonic()
            timings = _STATE.result["timings"]
            if timings["first_step"] is None and _STATE.train_start is not None:
                timings["first_step"] = round(now - _STATE.train_start, 3)  # graph build included
            elif _STATE.step_begin is not None and len(timings["step_times"]) < _MAX_LOSSES:
                timings["step_times"].append(round(now - _STATE.step_begin, 3))
            params = run_context.original_args()
            _STATE.result["train_steps"] += 1
            _STATE.record_loss(getattr(params, "net_outputs", None))
            _STATE.flush(force=False)

    def with_callback(callbacks):
        if callbacks is None:
            return [_SmokeCallback()]
        if isinstance(callbacks, (list, tuple)):
            return [_SmokeCallback(), *callbacks]
        return [_SmokeCallback(), callbacks]

    def cap_dataset(dataset, taken_pairs, steps=None):
        if dataset is None or not hasattr(dataset, "take"):
            return dataset
        _clamp_workers(dataset)
        taken = dataset.take(steps or _STATE.steps_cap)
        taken_pairs.append((dataset, taken))
        return taken

    def cap_epoch(epoch, initial_epoch):
        try:
            return min(int(epoch), int(initial_epoch or 0) + _STATE.epochs_cap)
        except (TypeError, ValueError):
            return epoch

    def wrap(name, adjust):
        original = getattr(Model, name)
        signature = inspect.signature(original)

        @functools.wraps(original)
        def wrapper(self, *args, **kwargs):
            if _STATE.in_model:
                return original(self, *args, **kwargs)
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            if name != "eval":
                if _STATE.model_epochs >= _STATE.epochs_cap:
                    _stop_script(f"Model.{name} call after {_STATE.model_epochs} epoch(s)")
                first = int(bound.arguments.get("initial_epoch") or 0)
            taken_pairs = []
            adjust(bound.arguments, taken_pairs)
            kind = "eval" if name == "eval" else "train"
            if kind == "train" and _STATE.result.get("network") is None:
                _STATE.result["network"] = _describe_network(getattr(self, "_network", None))
            _STATE.result[f"{kind}_calls"] += 1
            _STATE.in_model += 1
            start = time.monotonic()
            if kind == "train":
                _STATE.train_start = start
            try:
                result = original(*bound.args, **bound.kwargs)
            finally:
                _STATE.in_model -= 1
                _STATE.train_start = None
                _STATE.add_time(kind, start)
                for dataset, taken in taken_pairs:
                    _detach(dataset, taken)
                _STATE.flush()
            if name == "eval":
                _STATE.result["eval_metrics"] = _metrics(result)
            else:
                try:
                    _STATE.model_epochs += max(1, int(bound.arguments["epoch"]) - first)
                except (TypeError, ValueError):
                    _STATE.model_epochs += 1
            return result

        setattr(Model, name, wrapper)

    def adjust_train(arguments, taken_pairs):
        arguments["epoch"] = cap_epoch(arguments["epoch"], arguments.get("initial_epoch"))
        arguments["train_dataset"] = cap_dataset(arguments["train_dataset"], taken_pairs)
        arguments["callbacks"] = with_callback(arguments.get("callbacks"))

    def adjust_fit(arguments, taken_pairs):
        adjust_train(arguments, taken_pairs)
        arguments["valid_dataset"] = cap_dataset(arguments.get("valid_dataset"), taken_pairs, _STATE.eval_steps_cap)

    def adjust_eval(arguments, taken_pairs):
        arguments["valid_dataset"] = cap_dataset(arguments["valid_dataset"], taken_pairs, _STATE.eval_steps_cap)

    wrap("train", adjust_train)
    wrap("fit", adjust_fit)
    wrap("eval", adjust_eval)

    # losses returned by a TrainOneStepCell called in a custom loop
    try:
        from mindspore import nn

        for cell_cls in (nn.TrainOneStepCell, getattr(nn, "TrainOneStepWithLossScaleCell", None)):
            if cell_cls is None:
                continue
            base_call = cell_cls.__call__

            def make_call(base_call=base_call):
                def __call__(self, *args, **kwargs):
                    out = base_call(self, *args, **kwargs)
                    if not _STATE.in_model:
                        _STATE.record_loss(out)
                    return out

                return __call__

            cell_cls.__call__ = make_call()
    except Exception as exc:  # pragma: no cover - version drift
        _STATE.note(f"could not watch TrainOneStepCell: {exc!r}")


def _describe_network(net):
    """What Model.train trains: the network's class, the classes of its direct
    sub-cells (where they come from) and its parameter count (all parameters)."""
    if net is None:
        return None
    try:
        def name(obj):
            cls = type(obj)
            return f"{cls.__module__}.{cls.__qualname__}"

        children = []
        for cell in (net.name_cells() or {}).values():
            if name(cell) not in children:
                children.append(name(cell))
        count = 0
        for param in net.get_parameters():
            count += int(param.size)
        return {"class": name(net), "cells": children, "parameters": count}
    except Exception as exc:  # never fail the run over a description
        return {"class": type(net).__name__, "error": repr(exc)}


def _metrics(result):
    if not isinstance(result, dict):
        return None if result is None else {"value": str(result)}
    out = {}
    for key, value in result.items():
        number = _as_float(value)
        out[str(key)] = number if number is not None and math.isfinite(number) else str(value)
    return out


def _patch_value_and_grad(ms) -> None:
    """Record the loss returned by functions made with ``value_and_grad``.

    The returned stand-in is an ``nn.Cell``: called from Python (PyNative) its
    ``__call__`` records the loss; inside a ``jit`` graph the compiler parses
    its ``construct``, which just calls the real function, so graphs compile
    as before (and their losses are not seen).
    """
    original = getattr(ms, "value_and_grad", None)
    if original is None:
        return
    from mindspore import nn

    class _LossWatcher(nn.Cell):
        def __init__(self, grad_fn):
            super().__init__(auto_prefix=False)
            self.grad_fn = grad_fn

        def construct(self, *args):
            return self.grad_fn(*args)

        def __call__(self, *args, **kwargs):
            out = self.grad_fn(*args, **kwargs)
            if not _STATE.in_model:
                try:
                    _STATE.record_loss(out[0] if isinstance(out, tuple) else None)
                except Exception:
                    pass
            return out

    @functools.wraps(original)
    def value_and_grad(fn, *args, **kwargs):
        grad_fn = original(fn, *args, **kwargs)
        try:
            return _LossWatcher(grad_fn)
        except Exception:
            return grad_fn

    _replace_everywhere(original, value_and_grad)


# ---------------------------------------------------------------------------
# checkpoints


def _patch_checkpoints(ms) -> None:
    from mindspore import train
    from mindspore.train import serialization

    ModelCheckpoint = train.ModelCheckpoint
    original_init = ModelCheckpoint.__init__
    signature = inspect.signature(original_init)

    @functools.wraps(original_init)
    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        directory = bound.arguments.get("directory")
        if directory is not None:
            bound.arguments["directory"] = _STATE.redirect(directory, "ModelCheckpoint.directory")
        out = original_init(*bound.args, **bound.kwargs)
        try:  # which file names this callback writes: {prefix}-{epoch}_{step}.ckpt in its directory
            where = getattr(self, "_directory", None)
            names = {p for p in (bound.arguments.get("prefix", "CKP"), getattr(self, "_prefix", None))
                     if isinstance(p, str)}
            if names:
                _STATE.ckpt_writers.append((os.path.realpath(where) if isinstance(where, str) else None, names))
        except Exception:
            pass
        return out

    ModelCheckpoint.__init__ = __init__

    def wrap_path(name, param, kind, reading=False):
        original = getattr(serialization, name, None) or getattr(ms, name, None)
        if original is None:
            return
        try:
            signature = inspect.signature(original)
        except (TypeError, ValueError):
            return

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                return original(*args, **kwargs)
            path = bound.arguments.get(param)
            if isinstance(path, (str, os.PathLike)):
                if reading:
                    real = os.path.realpath(os.fspath(path))
                    folder, base = os.path.split(real)
                    if real in _STATE.path_map:
                        bound.arguments[param] = _STATE.path_map[real]
                    elif folder in _STATE.path_map:  # a file in a redirected checkpoint directory
                        bound.arguments[param] = os.path.join(_STATE.path_map[folder], base)
                    reason = _beyond_caps(os.fspath(bound.arguments[param]))
                    if reason is not None:
                        _STATE.result["cap_blame"] = {"file": os.fspath(path), "reason": reason,
                                                      "script_line": _script_line_here()}
                        _stop_script(reason, when="where it loads a checkpoint only the full run writes")
                else:
                    bound.arguments[param] = _STATE.redirect(path, name)
            if name != "save_checkpoint":
                return original(*bound.args, **bound.kwargs)
            start = time.monotonic()
            try:
                return original(*bound.args, **bound.kwargs)
            finally:
                _STATE.add_time("checkpoint_save", start)

        _replace_everywhere(original, wrapper)

    wrap_path("save_checkpoint", "ckpt_file_name", "save_checkpoint")
    wrap_path("load_checkpoint_async", "ckpt_file_name", "load_checkpoint_async", reading=True)
    wrap_path("load_checkpoint", "ckpt_file_name", "load_checkpoint", reading=True)
    wrap_path("export", "file_name", "export")


def _beyond_caps(path: str):
    """Why a missing checkpoint is the caps' fault, or None: its name is
    ``{prefix}-{epoch}_{step}.ckpt`` of a ModelCheckpoint of this run (same
    directory) and the epoch or the step in the epoch lies beyond the caps."""
    import re

    if os.path.exists(path):
        return None
    folder, name = os.path.split(os.path.realpath(path))
    for where, prefixes in _STATE.ckpt_writers:
        if where is not None and where != folder:
            continue
        for prefix in prefixes:
            m = re.fullmatch(re.escape(prefix) + r"-(\d+)_(\d+)\.\w+", name)
            if m is None:
                continue
            epoch, step = int(m.group(1)), int(m.group(2))
            if epoch > _STATE.epochs_cap or step > _STATE.steps_cap:
                return (f"{name} is epoch {epoch}, step {step}; the smoke run is capped at {_STATE.epochs_cap} "
                        f"epoch(s) of {_STATE.steps_cap} step(s), so the missing file is the cap's doing, "
                        f"not a defect of the script")
    return None


def _script_line_here():
    for frame in reversed(traceback.extract_stack()):
        try:
            if os.path.realpath(frame.filename) == _STATE.script:
                return frame.lineno
        except Exception:
            pass
    return None


# ---------------------------------------------------------------------------


def install(config_path: str) -> None:
    global _STATE
    with open(config_path, encoding="utf-8") as fh:
        config = json.load(fh)
    _STATE = _State(config)
    sys.excepthook = _excepthook
    atexit.register(_at_exit)
    _STATE.flush()
    try:
        _STATE.synthetic = _load_synthetic(config["synthetic_module"])
        import mindspore as ms

        _install_device(ms)
        _STATE.result["mindspore_version"] = getattr(ms, "__version__", None)

        import mindspore.dataset as ds
        from mindspore.dataset.engine import datasets as ds_engine

        for name, (kind, takes_usage) in _READERS.items():
            cls = getattr(ds, name, None)
            if cls is not None:
                _patch_reader(cls, kind, takes_usage)
        _patch_iterators(ds_engine.Dataset)
        _patch_batch(ds_engine.Dataset)
        if config.get("allow_host_workers", True):
            from mindspore.dataset.core import validator_helpers

            original = validator_helpers.check_num_parallel_workers
            _replace_everywhere(original, _lenient_workers(original), "mindspore.dataset")
        _patch_model(ms)
        _patch_value_and_grad(ms)
        _patch_checkpoints(ms)
    except BaseException as exc:  # report, then stop: never run the script unpatched
        _record_exception(type(exc), exc, exc.__traceback__, "bootstrap")
        _STATE.result["phase"] = "bootstrap-failed"
        _STATE.flush()
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(70)
    _STATE.result["phase"] = "script"
    _STATE.result["timings"]["bootstrap"] = round(time.monotonic() - _STATE.t0, 3)
    _STATE.flush()
