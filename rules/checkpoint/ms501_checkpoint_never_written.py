"""MS501: load_checkpoint of a literal path that the script's ModelCheckpoint or
save_checkpoint never writes."""

import posixpath
import re

import libcst as cst

from msfix.context import UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule


def saved_name(path: str) -> str:
    """The file `save_checkpoint` writes for `path`: it appends `.ckpt` when missing."""
    path = posixpath.normpath(path)
    return path if path.endswith(".ckpt") else path + ".ckpt"


def _norm_dir(d) -> str:
    return posixpath.normpath(d or ".")


def saved_checkpoints(epochs: int, spe: int, save_steps: int, keep_max: int):
    """(epoch, step-in-epoch) of the files left on disk, oldest first. ModelCheckpoint
    saves every `save_steps` global steps plus once at the end of training, and keeps
    the newest `keep_max` files."""
    total = epochs * spe
    if total <= 0:
        return []
    steps = [total]
    last_multiple = (total // save_steps) * save_steps
    if last_multiple == total:
        last_multiple -= save_steps
    want = keep_max if keep_max and keep_max > 0 else total
    g = last_multiple
    while g > 0 and len(steps) < want:
        steps.append(g)
        g -= save_steps
    steps.reverse()
    return [((s - 1) // spe + 1, s - ((s - 1) // spe) * spe) for s in steps]


def is_written(epoch: int, step: int, spe: int, epochs: int, save_steps: int, keep_max: int,
               sink: bool = False) -> bool:
    """ModelCheckpoint (every `save_steps` global steps, at the end of training, newest
    `keep_max` kept; MindSpore 2.10 `_save_ckpt`) leaves `<prefix>-<epoch>_<step>.ckpt`
    on disk after `epochs` epochs of `spe` steps. In dataset sink mode (Ascend/GPU;
    the CPU runs step by step) the callback runs once per epoch, so every name ends in
    `_<spe>`."""
    if spe <= 0 or not (1 <= epoch <= epochs) or not (1 <= step <= spe):
        return False
    total = epochs * spe
    if sink:
        if step != spe:
            return False
        saves, last = [], 0
        for k in range(1, epochs + 1):
            if k * spe >= last + save_steps:
                saves.append(k)
                last = k * spe
        if last != total:
            saves.append(epochs)
        kept = saves if keep_max <= 0 else saves[-keep_max:]
        return epoch in kept
    g = (epoch - 1) * spe + step
    if g == total:
        return True
    if g % save_steps:
        return False
    later = total // save_steps - g // save_steps + (1 if total % save_steps else 0)
    return keep_max <= 0 or later < keep_max


def written_for_some_size(epoch: int, step: int, epochs: int, save_steps: int, keep_max: int, sink: bool):
    """True when some number of steps per epoch makes ModelCheckpoint leave the file,
    False when none does, None when the search would be too long."""
    if epoch < 1 or step < 1 or epoch > epochs:
        return False
    bound = step + save_steps * ((keep_max if keep_max > 0 else 1) + 2)
    if bound - step > 200_000:
        return None
    if sink and is_written(epoch, step, step, epochs, save_steps, keep_max, sink=True):
        return True
    return any(is_written(epoch, step, spe, epochs, save_steps, keep_max) for spe in range(step, bound + 1))


def epoch_sizes(ctx, pipe):
    """What the script says about the steps per epoch of `pipe`:
    ("known", {spe}) when the source's size follows from the script (in-script arrays,
    or `num_samples=` below every size the files can have); ("assumed", {spe, ...}, name)
    for a dataset directory, one value per standard split the `usage` can read (the
    directory may hold other files: the size is assumed); ("unknown", None)."""
    unknown = ("unknown", set(), "")
    if pipe is None:
        return unknown
    spe = ctx.data.steps_per_epoch(pipe)
    if not isinstance(spe, int) or spe <= 0:
        return unknown
    src = pipe.source
    name = short_name(src.source_class)
    f = src.facts or {}
    if "from_arrays" in f or "from_generator" in f:  # a generator's size is known only when the script fixes it
        return "known", {spe}, name
    if "sizes" not in f:
        return unknown
    usage = ctx.data.source_usage(src)
    if usage is UNKNOWN:
        return unknown
    usage = usage or "all"
    sizes = set(f["sizes"].values()) if usage == "all" else {f["sizes"].get(usage)}
    if None in sizes:
        return unknown
    n = ctx.data.source_value(src, "num_samples", default=None)
    if isinstance(n, int) and n > 0 and n <= min(sizes):
        return "known", {spe}, name
    out = set()
    for size in sizes:
        r = ctx.data.rows_from(pipe, min(size, n) if isinstance(n, int) and n > 0 else size)
        if not isinstance(r, int) or r <= 0:
            return unknown
        out.add(r)
    return "assumed", out, name


def short_name(q: str) -> str:
    return (q or "").rsplit(".", 1)[-1]


class CheckpointNeverWritten(Rule):
    code = "MS501"
    name = "checkpoint-never-written"
    severity = Severity.ERROR
    summary = "`load_checkpoint` names a file that the script's `ModelCheckpoint` or `save_checkpoint` never writes."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x"
    doc = """
    ## What it does
    Compares a literal path given to `load_checkpoint` with what the script's
    `ModelCheckpoint` callback writes: files named
    `<prefix>-<epoch>_<step-in-epoch>.ckpt` in its `directory`, one every
    `save_checkpoint_steps` global steps plus one at the end of training, of which
    only the newest `keep_checkpoint_max` are kept (in dataset sink mode on Ascend/GPU,
    once per epoch: names end in the steps per epoch). What is reported depends on
    what the script says about the dataset size:

    - known (built from in-script arrays, or limited by `num_samples=`): msfix computes
      the steps per epoch and the exact names left on disk (error);
    - unknown: reported only when no number of steps per epoch writes the name (an
      epoch beyond the epochs trained, or a file older than the newest kept ones
      whatever the size: error);
    - a dataset directory of a known format (MNIST, CIFAR-10, ...): its size is assumed
      to be one of the standard splits the `usage` reads (MNIST without `usage`: 60000,
      10000 or 70000 samples). A name no such size writes is a warning whose message
      says what is assumed; a name one of them writes is not reported (a
      `MNIST_Data/train` folder holds only the 60000 training samples).

    Nothing is reported when other code may write the file: a `save_checkpoint` with
    a computed path (a best-accuracy callback), a download, or the name in another
    string of the script.

    Without a `ModelCheckpoint`, a literal path loaded after `save_checkpoint(obj,
    "<literal>")` wrote into the same folder (in the same function) must be one of the
    saved files; `save_checkpoint` appends `.ckpt` to a name without it. Paths built
    with `os.path.join` of literals count as literals. A literal path whose file name
    only a `save_checkpoint` into another folder writes (a custom Callback saving
    `"best.ckpt"` in the working directory, loaded as `"./ckpt/best.ckpt"` after
    `Model.train`) is reported too, when that save runs before the load (earlier in the
    same function, or in a function or Callback method reached before it through a call
    or a `Model.train`/`fit`) and no ModelCheckpoint prefix matches the name.

    ## Why is this bad?
    A guessed name such as `resnet50-200_1000.ckpt` (step 1000 is a global step, but the
    name holds the step within the epoch) does not exist, so `load_checkpoint` raises
    `ValueError: checkpoint file ... does not exist` after the whole training has run.
    (With 32 images a batch, that name exists only if the training set yields a
    multiple of 1000 steps per epoch, 32000 images for example: no standard size of
    CIFAR-10 does.)

    ## Example
    ```python
    ckpt_cb = ModelCheckpoint(prefix="resnet50", directory="./checkpoints/", config=config_ck)
    model.train(200, train_data, callbacks=[ckpt_cb])
    param_dict = load_checkpoint("./checkpoints/resnet50-200_1000.ckpt")
    ```

    Use instead:
    ```python
    param_dict = load_checkpoint(ckpt_cb.latest_ckpt_file_name)
    ```

    ## Fix safety
    Safe: `latest_ckpt_file_name` is the full path of the last file the callback wrote,
    which is the file written at the end of training. For `save_checkpoint`, adding
    the missing `.ckpt` is safe; replacing another name by the one saved file of that
    folder is unsafe (the author may have meant a file written elsewhere); so is
    loading the file a save into another folder wrote (the save may be what is wrong).
    """
    invalid = [
        Example(
            "import mindspore as ms\nimport mindspore.dataset as ds\n"
            "from mindspore.train import Model, ModelCheckpoint, CheckpointConfig\n"
            "data = ds.MnistDataset('m', usage='train').batch(100)\n"
            "cb = ModelCheckpoint(prefix='lenet', directory='ck', config=CheckpointConfig(save_checkpoint_steps=100))\n"
            "Model(net, loss, opt).train(2, data, callbacks=[cb])\n"
            "ms.load_checkpoint('ck/lenet-2_1000.ckpt')\n",
            expect=(7,),
            fixed="import mindspore as ms\nimport mindspore.dataset as ds\n"
                  "from mindspore.train import Model, ModelCheckpoint, CheckpointConfig\n"
                  "data = ds.MnistDataset('m', usage='train').batch(100)\n"
                  "cb = ModelCheckpoint(prefix='lenet', directory='ck', config=CheckpointConfig(save_checkpoint_steps=100))\n"
                  "Model(net, loss, opt).train(2, data, callbacks=[cb])\n"
                  "ms.load_checkpoint(cb.latest_ckpt_file_name)\n",
        ),
        Example(
            "import mindspore as ms\n"
            "ms.save_checkpoint(net, 'out/lenet')\n"
            "ms.load_checkpoint('out/lenet')\n",
            expect=(3,),
            fixed="import mindspore as ms\n"
                  "ms.save_checkpoint(net, 'out/lenet')\n"
                  "ms.load_checkpoint('out/lenet.ckpt')\n",
        ),
    ]
    valid = [
        Example(
            "import mindspore as ms\nimport os\n"
            "ms.save_checkpoint(net, os.path.join('out', 'lenet.ckpt'))\n"
            "ms.load_checkpoint('out/lenet.ckpt')\n"
            "ms.load_checkpoint('pretrained/resnet.ckpt')\n"),
        Example(
            "import mindspore as ms\nimport mindspore.dataset as ds\n"
            "from mindspore.train import Model, ModelCheckpoint, CheckpointConfig\n"
            "data = ds.MnistDataset('m', usage='train').batch(100)\n"
            "cb = ModelCheckpoint(prefix='lenet', directory='ck', config=CheckpointConfig(save_checkpoint_steps=100))\n"
            "Model(net, loss, opt).train(2, data, callbacks=[cb])\n"
            "ms.load_checkpoint('ck/lenet-2_600.ckpt')\n"),
        Example(
            "import mindspore as ms\n"
            "ms.load_checkpoint('pretrained/resnet50_imagenet.ckpt')\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        callbacks = m.calls_to("mindspore.train.ModelCheckpoint")
        saves = m.calls_to("mindspore.save_checkpoint")
        written = {}  # normalized path -> save_checkpoint call
        literal_saves = True
        for sv in saves:
            a = sv.arg("ckpt_file_name", 1)
            v = m.literal(a.value, sv.scope, sv.order) if a is not None and not sv.has_star_args else UNKNOWN
            fmt = sv.keyword("format")
            if fmt is not None and m.literal(fmt.value, sv.scope, sv.order) != "ckpt":
                v = UNKNOWN  # safetensors: another suffix
            if not isinstance(v, str):
                literal_saves = False
                continue
            written.setdefault(saved_name(v), sv)
        if not callbacks and not saves:
            return
        for load in m.calls_to("mindspore.load_checkpoint"):
            arg = load.arg("ckpt_file_name", 0)
            if arg is None:
                continue
            path = m.literal(arg.value, load.scope, load.order)
            if not isinstance(path, str) or load.has_star_args or load.keyword("format") is not None:
                continue
            if posixpath.normpath(path) in written:
                continue
            base = posixpath.basename(path)
            found = False
            # a save_checkpoint with a computed path (a best-accuracy callback, ...) may write any name
            for cb in callbacks if literal_saves else ():
                found = self._check_one(ctx, load, arg, path, base, cb)
                if found:
                    break
            if not found and literal_saves and all(self._cannot_write(m, cb, base) for cb in callbacks):
                if not self._check_saved(ctx, load, arg, path, written):
                    self._check_elsewhere(ctx, load, arg, path, written)

    @staticmethod
    def _cannot_write(m, cb, base) -> bool:
        """The ModelCheckpoint `cb` cannot write a file named `base` (its literal prefix
        does not start the name)."""
        a = cb.arg("prefix", 0)
        prefix = m.literal(a.value, cb.scope, cb.order) if a is not None else "CKP"
        return isinstance(prefix, str) and not base.startswith(prefix.rsplit("/", 1)[-1])

    def _check_saved(self, ctx, load, arg, path, written) -> bool:
        """`load_checkpoint(path)` after `save_checkpoint(obj, other)` into the same folder
        in the same function, where no save writes `path` (True when reported)."""
        norm = posixpath.normpath(path)
        folder = posixpath.dirname(norm)
        before = [(p, sv) for p, sv in written.items()
                  if sv.scope is load.scope and sv.order < load.order and posixpath.dirname(p) == folder]
        if not before:
            return False
        names = ", ".join(repr(p) for p, _ in before)
        fix = None
        value = arg.value
        if isinstance(value, cst.Call) and value.args and isinstance(value.args[-1].value, cst.SimpleString) \
                and saved_name(path) in written and not path.endswith(".ckpt"):
            # os.path.join(..., "name"): add the suffix to the last literal part
            last = value.args[-1].value
            from msfix.fixes.edits import string_literal

            fix = Fix.safe("Add the `.ckpt` suffix save_checkpoint added",
                           ctx.replace(last, string_literal(last.evaluated_value + ".ckpt", last), load.top))
        elif len(before) == 1 and isinstance(arg.value, cst.SimpleString):
            saved, sv = before[0]
            from msfix.fixes.edits import string_literal

            # keep the spelling of the loaded path (./x vs x) where only the suffix differs
            target = path + ".ckpt" if saved_name(path) == saved else saved
            edit = ctx.replace(arg.value, string_literal(target, arg.value), load.top)
            if target.endswith(".ckpt") and saved_name(path) == saved:
                fix = Fix.safe(f"Load {target!r}", edit)
            else:
                fix = Fix.unsafe(f"Load {target!r}, the file saved on line {ctx.span(sv.node, sv.top).line}", edit)
        suffix = ""
        if not path.endswith(".ckpt") and saved_name(path) in written:
            suffix = " (`save_checkpoint` appends `.ckpt` to a name without it, and `load_checkpoint` does not)"
        ctx.report(
            arg.value,
            f"{path!r} is never written by this script: `save_checkpoint` writes only {names} in that folder"
            f"{suffix}; `load_checkpoint` raises ValueError",
            fix=fix,
            top=load.top,
        )
        return True

    def _check_elsewhere(self, ctx, load, arg, path, written) -> None:
        """`load_checkpoint("dir/name.ckpt")` where the script's only writer of `name.ckpt` is a
        `save_checkpoint` with a literal path in another folder (a custom Callback saving
        "best.ckpt" in the working directory) that runs before the load: in the same function
        earlier, or in a function (a Callback method) reached before it, through a call of that
        function or a `Model.train`/`fit` in the load's function."""
        m = ctx.model
        norm = posixpath.normpath(path)
        base = posixpath.basename(norm)
        same = [(p, sv) for p, sv in written.items() if posixpath.basename(p) == base]
        if not same or any(posixpath.dirname(p) == posixpath.dirname(norm) for p, _ in same):
            return
        if not all(self._runs_before(m, sv, load) for _, sv in same):
            return
        # another writer: a download, a copy, or the name in another string than the saves and loads
        if self._other_writers(m, base, load, extra=len(same)):
            return
        saved, sv = same[0]
        where = "the working directory" if not posixpath.dirname(saved) else repr(posixpath.dirname(saved))
        there = repr(posixpath.dirname(norm)) if posixpath.dirname(norm) else "the working directory"
        lines = ", ".join(str(ctx.span(s.node, s.top).line) for _, s in same)
        fix = None
        if len(same) == 1 and isinstance(arg.value, cst.SimpleString):
            from msfix.fixes.edits import string_literal

            fix = Fix.unsafe(f"Load {saved!r}, the file saved on line {lines}",
                             ctx.replace(arg.value, string_literal(saved, arg.value), load.top))
        ctx.report(
            arg.value,
            f"{path!r} is never written by this script: `save_checkpoint` (line {lines}) writes {base!r} in "
            f"{where}, not in {there}; `load_checkpoint` raises ValueError",
            fix=fix,
            top=load.top,
        )

    @staticmethod
    def _runs_before(m, sv, load) -> bool:
        """The `save_checkpoint` call `sv` can run before `load`."""
        if sv.scope is load.scope:
            return sv.order < load.order
        fn = sv.scope.node
        if not isinstance(fn, cst.FunctionDef):
            return False
        for c in m.calls:
            if c.scope is not load.scope or c.order >= load.order:
                continue
            if c.method in ("train", "fit") or c.qualname == f"<local>.{fn.name.value}":
                return True
        return False

    def _check_one(self, ctx, load, arg, path, base, cb) -> bool:
        m = ctx.model
        lit = lambda a, default=UNKNOWN: default if a is None else m.literal(a.value, cb.scope, cb.order)  # noqa: E731
        prefix = lit(cb.arg("prefix", 0), "CKP")
        directory = lit(cb.arg("directory", 1), None)
        if not isinstance(prefix, str) or not (directory is None or isinstance(directory, str)):
            return False
        match = re.fullmatch(re.escape(prefix) + r"(?:_\d+)?-(\d+)_(\d+)\.ckpt", base)
        if match is None or _norm_dir(directory) != _norm_dir(posixpath.dirname(path)):
            return False
        epoch, step = int(match.group(1)), int(match.group(2))
        save_steps, keep_max = 1, 5
        cfg_arg = cb.arg("config", 2)
        if cfg_arg is not None:
            cfg = m.instance_call(cfg_arg.value, cb.scope, cb.order)
            if cfg is None or cfg.qualname != "mindspore.train.CheckpointConfig":
                return False
            if cfg.keyword("save_checkpoint_seconds") is not None or cfg.keyword("keep_checkpoint_per_n_minutes") is not None:
                return False
            save_steps = m.literal(cfg.arg("save_checkpoint_steps", 0).value, cfg.scope, cfg.order) \
                if cfg.arg("save_checkpoint_steps", 0) is not None else 1
            keep_max = m.literal(cfg.arg("keep_checkpoint_max", 2).value, cfg.scope, cfg.order) \
                if cfg.arg("keep_checkpoint_max", 2) is not None else 5
            if keep_max is None or keep_max == 0:
                keep_max = 1  # CheckpointConfig keeps one file then (2.10)
            if not isinstance(save_steps, int) or not isinstance(keep_max, int) or save_steps <= 0:
                return False
        train = ctx.training.train_call_of(cb)
        if train is None:
            return False
        run = self._run_options(m, train)
        if run is None:
            return False
        epochs, sink = run
        ds_arg = train.arg("train_dataset", 1)
        pipe = m.pipeline_of(ds_arg.value, train.scope, train.order) if ds_arg is not None else None
        kind, sizes, source = epoch_sizes(ctx, pipe)
        if kind != "unknown" and not isinstance(epochs, int):
            kind, sizes = "unknown", set()
        if any(is_written(epoch, step, spe, epochs, save_steps, keep_max)
               or (sink and is_written(epoch, step, spe, epochs, save_steps, keep_max, sink=True)) for spe in sizes):
            return True
        if self._other_writers(m, base, load):
            return True
        keep_text = '' if keep_max <= 0 else f' and the newest {keep_max} kept'
        cond = ""
        if kind == "known":
            spe = sizes.pop()
            detail = (f"{epochs} epochs of {spe} steps with a checkpoint every {save_steps} steps{keep_text} leave "
                      f"{self._kept_text(prefix, epochs, spe, save_steps, keep_max)}")
            severity = None
        else:
            anywhere = written_for_some_size(epoch, step, epochs, save_steps, keep_max, sink) \
                if isinstance(epochs, int) else None
            if anywhere is False:
                severity = None
                if epoch > epochs:
                    detail = f"training runs {epochs} epochs, so no file of epoch {epoch} is written"
                else:
                    detail = (f"whatever the number of steps per epoch, {epochs} epochs with a checkpoint every "
                              f"{save_steps} global steps{keep_text} never leave epoch {epoch}, step {step} (the "
                              f"name holds the step within the epoch)")
            elif kind == "assumed":
                # the size is the standard one of the dataset's files: say so, as a warning
                severity = Severity.WARNING
                spes = sorted(sizes)
                spe = ctx.data.steps_per_epoch(pipe)
                others = [x for x in spes if x != spe]
                cond = (f" if the directory holds the standard `{source}` files (assumed: the script does not fix "
                        f"the dataset size)")
                detail = (f"{epochs} epochs of {spe} steps with a checkpoint every {save_steps} steps{keep_text} "
                          f"leave {self._kept_text(prefix, epochs, spe, save_steps, keep_max)}")
                if others:
                    detail += (f"; with only part of them ({', '.join(str(x) for x in others)} steps per epoch) "
                               f"it is not written either")
            else:
                return True
        fix = None
        if cb.target and self._binding_is(m, cb, load):
            fix = Fix.safe(f"Load `{cb.target}.latest_ckpt_file_name`",
                           ctx.replace(arg.value, f"{cb.target}.latest_ckpt_file_name", load.top))
        ctx.report(
            arg.value,
            f"`{base}` is never written by `ModelCheckpoint(prefix={prefix!r})` "
            f"(line {ctx.span(cb.node, cb.top).line}){cond}: {detail}; "
            f"`load_checkpoint` raises ValueError after training",
            fix=fix,
            top=load.top,
            severity=severity,
        )
        return True

    @staticmethod
    def _kept_text(prefix, epochs, spe, save_steps, keep_max) -> str:
        kept = saved_checkpoints(epochs, spe, save_steps, keep_max)
        names = [f"{prefix}-{e}_{s}.ckpt" for e, s in kept]
        return ", ".join(names) if len(names) <= 3 else f"{names[0]} ... {names[-1]} ({len(names)} files)"

    @staticmethod
    def _run_options(m, train):
        """(literal epochs or UNKNOWN, sink mode possible) of a Model.train / Model.fit
        call, or None when `sink_size` or `initial_epoch` changes the names."""
        fit = train.method == "fit"
        pos = {"sink": 5, "size": 7, "initial": 8} if fit else {"sink": 3, "size": 4, "initial": 5}
        if train.has_star_args:
            return None
        for name, key, default in (("sink_size", "size", -1), ("initial_epoch", "initial", 0)):
            a = train.arg(name, pos[key])
            if a is not None and m.literal(a.value, train.scope, train.order) != default:
                return None
        a = train.arg("epoch", 0)
        epochs = m.literal(a.value, train.scope, train.order) if a is not None else UNKNOWN
        if not isinstance(epochs, int) or isinstance(epochs, bool):
            epochs = UNKNOWN
        a = train.arg("dataset_sink_mode", pos["sink"])
        sink = a is not None and m.literal(a.value, train.scope, train.order) is not False
        return epochs, sink

    @staticmethod
    def _other_writers(m, base, load, extra: int = 0) -> bool:
        """Other code may write the file: a download (a call named like one), or the
        name in another string of the script (a URL, a copy), besides the loads (and
        `extra` other known mentions)."""
        for c in m.calls:
            f = c.node.func
            name = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else ""
            low = name.lower()
            if "download" in low or low in ("urlretrieve", "wget", "copy", "copyfile", "copy2", "move", "rename"):
                return True
        loads = 0
        for c in m.calls_to("mindspore.load_checkpoint"):
            a = c.arg("ckpt_file_name", 0)
            if a is not None and isinstance(m.literal(a.value, c.scope, c.order), str) \
                    and posixpath.basename(m.literal(a.value, c.scope, c.order)) == base:
                loads += 1
        return m.text.count(base) > loads + extra

    @staticmethod
    def _binding_is(m, cb, load) -> bool:
        b = m.lookup(cb.target, load.scope, load.order)
        return b is not None and b.kind == "assign" and b.value is cb.node
