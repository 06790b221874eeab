"""MS108: a known-bad value for an enumerated MindSpore argument (mode, device target, usage)."""

import libcst as cst

from msfix.context import UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule


def _string_literal(expr):
    if isinstance(expr, cst.SimpleString):
        v = expr.evaluated_value
        return v if isinstance(v, str) else None
    return None


def _quoted(expr: cst.SimpleString, value: str) -> str:
    q = expr.quote
    prefix = expr.prefix
    return f"{prefix}{q}{value}{q}"


class InvalidEnumValue(Rule):
    code = "MS108"
    name = "invalid-enum-value"
    severity = Severity.ERROR
    summary = "A value MindSpore rejects for `mode`, `device_target` or a dataset's `usage`."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x (values checked on 2.10.0; `set_device` from 2.5)"
    doc = """
    ## What it does
    Checks literal values of enumerated arguments:
    - `set_context(mode=...)`: must be `GRAPH_MODE` (0) or `PYNATIVE_MODE` (1); a
      string such as `"GRAPH_MODE"` raises `TypeError: The parameter 'mode' must be
      <class 'int'>`, another int `ValueError` (verified on 2.10);
    - `set_context(device_target=...)` and `set_device(...)`: must be `"CPU"`,
      `"GPU"` or `"Ascend"`, case included: `"cpu"` raises `ValueError: ... must be
      one of ['CPU', 'GPU', 'Ascend']`;
    - `usage=` of the dataset classes msfix knows (`Cifar10Dataset`, `MnistDataset`,
      ...): `"training"` raises `ValueError: Input usage is not within the valid set
      of ['train', 'test', 'all']`. The value may be a literal, a module constant, an
      argparse default or a config entry, or a loader helper's parameter: each call of
      the helper is judged with the value it passes (the message names that call).

    ## Why is this bad?
    The script fails at that line, usually at start-up (a cheap error, but one that a
    CI run on another device type may be the first to hit).

    ## Example
    ```python
    ms.set_context(mode="GRAPH_MODE", device_target="gpu")
    train = ds.Cifar10Dataset(path, usage="training")
    ```

    Use instead:
    ```python
    ms.set_context(mode=ms.GRAPH_MODE, device_target="GPU")
    train = ds.Cifar10Dataset(path, usage="train")
    ```

    ## Fix safety
    Safe when only one valid value matches: the mode constant named in the string,
    the device name in another case, `"training"`->`"train"`, `"Test"`->`"test"`.
    Unsafe for guesses: `"cuda"`->`"GPU"`, `"npu"`->`"Ascend"`, `usage="eval"`->
    `"test"`. For a helper's parameter the fix edits the string literal the call
    passes. Other variables: no fix.
    """
    invalid = [
        Example("import mindspore as ms\nms.set_context(mode='GRAPH_MODE')\n", expect=(2,),
                fixed="import mindspore as ms\nms.set_context(mode=ms.GRAPH_MODE)\n"),
        Example("import mindspore as ms\nms.set_device('gpu')\n", expect=(2,),
                fixed="import mindspore as ms\nms.set_device('GPU')\n"),
        Example("import mindspore.dataset as ds\nd = ds.Cifar10Dataset('data', usage='training')\n", expect=(2,),
                fixed="import mindspore.dataset as ds\nd = ds.Cifar10Dataset('data', usage='train')\n"),
        Example("from mindspore import context\ncontext.set_context(mode=2)\n", expect=(2,)),
    ]
    valid = [
        Example("import mindspore as ms\nms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')\n"),
        Example("import mindspore as ms\nms.set_context(mode=0)\nms.set_device('Ascend', 0)\n"),
        Example("import mindspore.dataset as ds\nd = ds.Cifar10Dataset('data', usage='train')\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        api = ctx.api
        version = api.short_version
        enums = api.table("enum_values.json")
        for site in m.calls_to("mindspore.set_context"):
            self._mode(ctx, site, enums["mode"], version)
            self._device(ctx, site, site.keyword("device_target"), enums["device_target"], "mindspore.set_context",
                         version)
        for site in m.calls_to("mindspore.set_device"):
            self._device(ctx, site, site.arg("device_target", 0), enums["device_target"], "mindspore.set_device",
                         version)
        sources = api.facts().dataset_sources()
        for q, info in sources.items():
            ua = info.get("usage_arg")
            usages = info.get("usages")
            if not ua or not usages:
                continue
            for site in m.calls_to(q):
                self._usage(ctx, site, site.arg(ua[0], ua[1]), usages, q, enums["usage"])

    def _mode(self, ctx, site, enum, version):
        arg = site.keyword("mode")
        if arg is None:
            return
        m = ctx.model
        v = m.literal(arg.value, site.scope, site.order)
        if v is UNKNOWN or isinstance(v, bool):
            return
        if isinstance(v, str):
            fix = None
            up = v.upper()
            hits = [const for key, const in enum["strings"].items() if key in up]
            if len(hits) == 1 and _string_literal(arg.value) is not None:
                ms_name, imp = ctx.ensure_module("mindspore", "ms")
                edits = [ctx.replace(arg.value, f"{ms_name}.{hits[0]}", site.top)]
                ie = ctx.imports_edit([imp])
                if ie is not None:
                    edits.append(ie)
                fix = Fix.safe(f"Use `{ms_name}.{hits[0]}`", *edits)
            ctx.report(arg.value, f"`set_context(mode={v!r})`: mode must be the constant `mindspore.GRAPH_MODE` (0) "
                                  f"or `mindspore.PYNATIVE_MODE` (1), not a string: MindSpore {version} "
                                  "raises TypeError", fix=fix, top=site.top)
        elif isinstance(v, int) and str(v) not in enum["valid_ints"]:
            ctx.report(arg.value, f"`set_context(mode={v})`: mode must be `mindspore.GRAPH_MODE` (0) or "
                                  f"`mindspore.PYNATIVE_MODE` (1): MindSpore {version} raises ValueError",
                       top=site.top)

    def _device(self, ctx, site, arg, enum, func, version):
        if arg is None:
            return
        m = ctx.model
        v = m.literal(arg.value, site.scope, site.order)
        if not isinstance(v, str):
            return
        valid = list(enum["valid"]) + list(enum.get("also_valid", {}).get(func, ()))
        if v in valid:
            return
        fix = None
        lit = _string_literal(arg.value)
        match = [x for x in enum["valid"] if x.lower() == v.strip().lower()]
        hint = ""
        if match:
            hint = f"; use {match[0]!r}"
            if lit is not None:
                fix = Fix.safe(f"Use {match[0]!r}", ctx.replace(arg.value, _quoted(arg.value, match[0]), site.top))
        elif v.strip().lower() in enum["review"]:
            new = enum["review"][v.strip().lower()]
            hint = f"; MindSpore calls it {new!r}"
            if lit is not None:
                fix = Fix.unsafe(f"Use {new!r}", ctx.replace(arg.value, _quoted(arg.value, new), site.top))
        name = "set_context(device_target=...)" if func.endswith("set_context") else "set_device(...)"
        ctx.report(arg.value, f"`{name}` got {v!r}: the device target must be one of "
                              + ", ".join(repr(x) for x in enum["valid"])
                              + f" (case matters): MindSpore {version} raises ValueError{hint}",
                   fix=fix, top=site.top)

    def _usage(self, ctx, site, arg, usages, q, enum):
        if arg is None:
            return
        m = ctx.model
        v = m.literal(arg.value, site.scope, site.order)
        if isinstance(v, str):
            if v not in usages:
                origin = None if _string_literal(arg.value) is not None else ctx.values.origin(
                    arg.value, site.scope, site.order, ctx)
                self._report_usage(ctx, site, arg, v, arg.value, site.top, usages, q, enum, origin)
            return
        # a helper's parameter (`def load(path, usage): ds.X(path, usage=usage)`): the value of
        # each call of the helper; the fix edits the literal the call passes
        seen = set()
        for value, call in ctx.values.per_call(arg.value, site.scope, site.order, site.statement):
            if not isinstance(value, str) or value in usages or id(call) in seen:
                continue
            seen.add(id(call))
            given = None
            fn = site.scope.node
            if call is not None and isinstance(arg.value, cst.Name) and isinstance(fn, cst.FunctionDef):
                got = ctx.data.param_arg(call, fn, arg.value.value)
                if isinstance(got, cst.SimpleString) and _string_literal(got) == value:
                    given = got
            origin = ctx.values.origin(arg.value, site.scope, site.order, ctx, call)
            self._report_usage(ctx, site, arg, value, given, call.top if call is not None else site.top,
                               usages, q, enum, origin)

    def _report_usage(self, ctx, site, arg, v, lit_node, lit_top, usages, q, enum, origin):
        """Report `usage=v` at `arg`; the fix rewrites the string literal `lit_node` (if any)."""
        key = v.strip().lower()
        fix = None
        hint = ""
        lit = _string_literal(lit_node) if lit_node is not None else None
        new = key if key in usages else enum["safe"].get(key)
        if new is not None and new in usages:
            hint = f"; use {new!r}"
            if lit is not None:
                fix = Fix.safe(f"Use {new!r}", ctx.replace(lit_node, _quoted(lit_node, new), lit_top))
        elif enum["review"].get(key) in usages:
            new = enum["review"][key]
            hint = f"; the held-out split is {new!r}"
            if lit is not None:
                fix = Fix.unsafe(f"Use {new!r}", ctx.replace(lit_node, _quoted(lit_node, new), lit_top))
        cls = q.rsplit(".", 1)[1]
        comes = f". The value comes from {origin}" if origin else ""
        ctx.report(arg.value, f"`{cls}(usage={v!r})`: usage must be one of "
                              + ", ".join(repr(u) for u in usages) + f": it raises ValueError{hint}{comes}",
                   fix=fix, top=site.top)
