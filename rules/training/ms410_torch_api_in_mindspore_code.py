"""MS410: a `torch.*` call inside MindSpore code (a Cell, the training step, or on MindSpore Tensors)."""

from __future__ import annotations

from typing import Dict, Optional, Set

import libcst as cst

from msfix.context import GRAD_FUNCS
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule

KIND_TEXT = {
    "consistent": "consistent",
    "names": "the function is consistent, parameter names differ",
    "types": "the function is consistent, parameter data types differ",
    "order": "the function is consistent, the number or order of parameters differs",
    "diff": "it differs",
    "unstated": "the table does not say how it differs",
}


def on_cpu(ctx) -> bool:
    """The script sets the device, and only to CPU."""
    devs = ctx.training.device_targets()
    return bool(devs) and all(isinstance(d, str) and d.upper() == "CPU" for d in devs)


def is_torch(q: Optional[str]) -> bool:
    return bool(q) and (q == "torch" or q.startswith("torch."))


def _fn_name(scope) -> str:
    node = scope.node
    return node.name.value if isinstance(node, cst.FunctionDef) else scope.name


def _curated(ctx, torch_q: str) -> Optional[dict]:
    """msfix's own torch table (torch_to_mindspore.json, shared with MS101/MS105), for
    torch APIs MindSpore's mapping tables leave out (`torch.no_grad`, `TensorDataset`)."""
    for entry in ctx.api.torch_table().get("missing", {}).values():
        if entry.get("torch") == torch_q:
            return entry
    return None


def _spelling(ctx, qualname: str):
    """How new code names a MindSpore API: through a module the script already binds
    (`nn.Dense` after `from mindspore import nn`), else `ms.<path>` (with the import
    statement to add when `mindspore` is not bound)."""
    parts = qualname.split(".")
    for i in range(len(parts) - 1, 1, -1):
        alias = ctx.module_alias(".".join(parts[:i]))
        if alias is not None:
            return ".".join([alias] + parts[i:]), None
    alias, imp = ctx.ensure_module("mindspore", "ms")
    return f"{alias}.{qualname[len('mindspore.'):]}", imp


class MindSporeContexts:
    """Where a torch call cannot be meant: Cell methods, functions MindSpore differentiates
    or compiles, the training step (the function or the top-level loop that calls the
    gradient function or a MindSpore optimizer)."""

    def __init__(self, ctx):
        self.m = m = ctx.model
        self.functions: Dict[int, str] = {}  # id(FunctionDef) -> description
        self.loops: Dict[int, str] = {}  # top-level statement index -> description
        for cell in m.cells.values():
            for name, fn in cell.methods.items():
                self.functions.setdefault(id(fn), f"in the Cell method `{cell.name}.{name}`")
        grad_names: Set[str] = set()
        for vg in m.calls_to(*GRAD_FUNCS):
            fn_arg = vg.positional(0) or vg.keyword("fn")
            if fn_arg is not None and isinstance(fn_arg.value, cst.Name):
                b = m.lookup(fn_arg.value.value, vg.scope, vg.order)
                if b is not None and b.kind == "def" and isinstance(b.node, cst.FunctionDef):
                    self.functions.setdefault(
                        id(b.node), f"in `{b.name}`, which `{vg.qualname.rsplit('.', 1)[-1]}` differentiates")
            if vg.target:
                grad_names.add(vg.target)
        for cf in ctx.network.compiled():
            self.functions.setdefault(id(cf.node), f"in `{cf.node.name.value}`, which MindSpore compiles ({cf.why})")
        for c in m.calls:
            f = c.node.func
            if c.qualname is not None or not isinstance(f, cst.Name):
                continue
            step = f.value in grad_names or (c.node.args and ctx.training.optimizer_type(f, c.scope, c.order) is not None)
            if not step:
                continue
            what = f"calls `{f.value}(...)`"
            s = c.scope
            while s is not None and s.kind != "function" and s.parent is not None:
                s = s.parent
            if s is not None and isinstance(s.node, cst.FunctionDef):
                self.functions.setdefault(id(s.node), f"in the training step `{_fn_name(s)}` (it {what})")
            elif c.scope is m.module_scope or s is m.module_scope:
                stmt = m.module.body[c.top]
                if isinstance(stmt, (cst.For, cst.While)):
                    self.loops.setdefault(c.top, f"in the training loop (it {what})")

    def where(self, site) -> Optional[str]:
        s = site.scope
        while s is not None:
            if s.node is not None and id(s.node) in self.functions:
                return self.functions[id(s.node)]
            s = s.parent
        if site.top in self.loops:
            return self.loops[site.top]
        return None


class TorchApiInMindSporeCode(Rule):
    code = "MS410"
    name = "torch-api-in-mindspore-code"
    severity = Severity.ERROR
    summary = ("A `torch.*` call in a MindSpore Cell, training step or on MindSpore Tensors; "
               "its MindSpore counterpart from MindSpore's PyTorch mapping tables.")
    fix_applicability = Applicability.UNSAFE
    versions = "MindSpore 1.x and 2.x (the docs branch follows the target version)"
    doc = """
    ## What it does
    Flags each call of a `torch` API (resolved by its qualified name through the
    script's imports: `torch.cat`, `F.relu` after `import torch.nn.functional as F`,
    `nn.Linear` after `from torch import nn`) made where MindSpore runs the code:

    - in a method of a MindSpore Cell defined in the script (`construct`, `__init__`, ...);
    - in a function MindSpore differentiates (`ms.value_and_grad(forward_fn, ...)`) or
      compiles (`@ms.jit`, GRAPH_MODE);
    - in the training step: a function, or a top-level loop, that calls the gradient
      function or a MindSpore optimizer (`optimizer(grads)`);
    - anywhere, when an argument is a MindSpore Tensor msfix can see
      (`torch.sum(ms.Tensor(x))`);
    - a torch object built elsewhere (`loss_fn = torch.nn.CrossEntropyLoss()`) that is
      called in one of those places is reported where it is built.

    The message names the MindSpore counterpart at the target version, from
    MindSpore's own PyTorch-MindSpore API mapping table for that release (r1.10 up
    to 1.10, r2.2 for 2.0-2.5, r2.6.0 for 2.6, master later): `mindspore.mint` where
    the target has it, else `mindspore.ops` / `mindspore.nn`, and the kind of
    difference (consistent, which parameters are renamed, which torch parameters
    MindSpore lacks, which defaults differ, or the table's note). A counterpart is
    named only when the API index says the target release has it (for torch APIs the
    tables leave out, such as `torch.no_grad`, the message gives msfix's own torch table's
    advice, shared with MS101/MS105). A script that sets
    the CPU device (`ms.set_device("CPU")`, `set_context(device_target="CPU")`) gets
    the r2.2 table's `ops` / `nn` counterpart first: on the 2.10 CPU wheel some `mint`
    operators have no kernel (`mint.nn.MSELoss`, `mint.nn.CrossEntropyLoss`,
    `mint.nn.Conv2d`, `mint.argmax`: "The kernel ... unregistered").

    ## When it applies
    Torch used on purpose is not reported: a script that loads `.pth` weights with
    `torch.load` and converts them to a MindSpore checkpoint, or compares outputs with
    a PyTorch model outside the Cells and the training step, gets no diagnostic.
    mindnlp's `mindnlp.core` torch-style modules are not torch (their qualified name
    is `mindnlp.core...`).

    ## Why is this bad?
    A MindSpore Cell or training step cannot run torch operations: torch functions
    reject MindSpore Tensors (`TypeError`), torch layers built in a Cell are not
    Cells (their weights are not trained by the MindSpore optimizer), and the script
    needs PyTorch installed where it runs.

    ## Example
    ```python
    import torch
    import mindspore as ms
    from mindspore import nn

    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(8, 2)

        def construct(self, x):
            x = torch.cat([x, x], dim=1)
            return self.fc(x)
    ```

    Use instead:
    ```python
    import mindspore as ms
    from mindspore import nn

    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(8, 2)

        def construct(self, x):
            x = ms.mint.cat([x, x], dim=1)
            return self.fc(x)
    ```

    ## Fix safety
    Safe where the table says the mapping is consistent and the arguments carry over
    (no `*args`/`**kwargs`, no more positional arguments than the MindSpore signature
    takes, every keyword accepted by it): the callee is replaced by the MindSpore API
    (`ms.mint.cat`, importing `mindspore as ms` when needed). Unsafe where parameters
    are renamed (`dim=` -> `axis=`, applied to the keywords) or the table states
    another difference (data types, a note). No fix when there is no counterpart at
    the target, when a torch parameter MindSpore lacks is passed, when a parameter
    whose default differs is left to its default, for r1.10 mappings to Primitive
    classes, or when the arguments do not carry over.
    Once nothing of torch is left, MS411 removes the import.
    """
    invalid = [
        Example(
            "import torch\nimport mindspore as ms\nfrom mindspore import nn\n"
            "class Net(nn.Cell):\n"
            "    def construct(self, x):\n"
            "        return torch.cat([x, x], dim=1)\n",
            expect=(6,),
            fixed="import torch\nimport mindspore as ms\nfrom mindspore import nn\n"
                  "class Net(nn.Cell):\n"
                  "    def construct(self, x):\n"
                  "        return ms.mint.cat([x, x], dim=1)\n",
        ),
    ]
    valid = [
        Example("import torch\nimport mindspore as ms\n"
                "state = torch.load('model.pth', map_location='cpu')\n"
                "params = [{'name': k, 'data': ms.Tensor(v.numpy())} for k, v in state.items()]\n"
                "ms.save_checkpoint(params, 'model.ckpt')\n"),
        Example("from mindnlp.core import ops\nfrom mindspore import nn\nclass Net(nn.Cell):\n"
                "    def construct(self, x):\n        return ops.cat([x, x], dim=1)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        torch_sites = [s for s in m.calls if is_torch(s.qualname)]
        if not torch_sites:
            return
        places = MindSporeContexts(ctx)
        reported: Set[int] = set()
        for site in torch_sites:
            where = places.where(site)
            if where is None:
                where = self._tensor_argument(ctx, site)
            if where is None:
                continue
            reported.add(id(site.node))
            self._report(ctx, site, where)
        # torch objects built elsewhere and called in MindSpore code
        for c in m.calls:
            f = c.node.func
            if c.qualname is not None or not isinstance(f, cst.Name):
                continue
            where = places.where(c)
            if where is None:
                continue
            b = m.lookup(f.value, c.scope, c.order)
            if b is None or b.kind != "assign" or not isinstance(b.value, cst.Call):
                continue
            built = m.call_of(b.value)
            if built is None or not is_torch(built.qualname) or id(built.node) in reported:
                continue
            reported.add(id(built.node))
            self._report(ctx, built, f"{where} (as `{f.value}`, line {ctx.span(c.node, c.top).line})",
                         built=True)

    @staticmethod
    def _tensor_argument(ctx, site) -> Optional[str]:
        for a in site.node.args:
            if not a.star and ctx.training.is_tensor(a.value, site.scope, site.order):
                return f"on the MindSpore Tensor `{ctx.source(a.value)}`"
        return None

    def _report(self, ctx, site, where, built=False):
        tq = site.qualname
        callee = ctx.source(site.node.func)
        shown = f"`{callee}(...)`" + (f" (`{tq}`)" if callee != tq else "")
        head = f"{shown} builds a PyTorch object used {where}" if built else f"{shown} is a PyTorch call {where}"
        classic = on_cpu(ctx)
        mp, own = ctx.api.torch_counterpart(tq, classic)
        ver = ctx.api.short_version
        if mp is None:
            if own is not None and own.ms:
                msg = (f"{head}; MindSpore's {own.branch} PyTorch mapping table maps it to `{own.ms}`, which "
                       f"MindSpore {ver} does not have")
            else:
                msg = f"{head}; MindSpore's PyTorch mapping tables name no MindSpore counterpart"
                known = _curated(ctx, tq)
                if known is not None:
                    use, note = known.get("use"), known.get("note")
                    msg += (f"; use `{use}`" if use else "") + (f" ({note})" if note else "")
            ctx.report(site.node, msg, top=site.top)
            return
        detail = self._detail(mp)
        msg = f"{head}; its MindSpore {ver} counterpart is `{mp.ms}` ({detail}; MindSpore's {mp.branch} mapping table"
        if classic and mp.branch == "r2.2":
            msg += "; `ops`/`nn` rather than `mint`, as the script runs on CPU, where some `mint` operators have no kernel"
        msg += ")"
        fix, why_not = self._fix(ctx, site, mp)
        if fix is None and why_not:
            msg += f"; not rewritten: {why_not}"
        ctx.report(site.node, msg, fix=fix, top=site.top)

    @staticmethod
    def _detail(mp) -> str:
        if mp.kind == "note" and mp.note:
            parts = [mp.note.rstrip(".")]
        else:
            parts = [KIND_TEXT.get(mp.kind, mp.kind)]
        if mp.renames:
            parts.append("renamed: " + ", ".join(f"`{a}` -> `{b}`" for a, b in sorted(mp.renames.items())))
        lacks = [p for p in mp.dropped if p not in ("out",)]
        if lacks:
            parts.append("MindSpore lacks " + ", ".join(f"`{p}`" for p in lacks))
        if mp.defaults:
            parts.append("other default for " + ", ".join(f"`{p}`" for p in mp.defaults))
        if mp.page and mp.kind != "consistent":
            parts.append(f"see pytorch_diff/{mp.page}.html")
        return "; ".join(parts)

    @staticmethod
    def _fix(ctx, site, mp):
        """(Fix or None, why there is none)."""
        call = site.node
        if mp.kind in ("unstated", "none"):
            return None, None
        if mp.kind == "diff" and not (mp.renames or mp.dropped or mp.defaults):
            return None, None  # a difference page msfix could not read
        torch_is_class = site.qualname.rsplit(".", 1)[-1][:1].isupper()
        if ctx.api.kind(mp.ms) != ("class" if torch_is_class else "function"):
            return None, "the counterpart is a " + str(ctx.api.kind(mp.ms))
        if any(a.star for a in call.args):
            return None, "`*args`/`**kwargs` cannot be checked"
        sig = ctx.api.signature(mp.ms)
        if sig is None:
            return None, None
        positional = [a for a in call.args if a.keyword is None]
        keywords = [a for a in call.args if a.keyword is not None]
        limit = sig.max_positional()
        if mp.kind == "order" and len(positional) > 1:
            return None, "the order of parameters differs"
        if limit is not None and len(positional) > limit:
            return None, f"`{mp.ms}` takes at most {limit} positional arguments"
        passed = {a.keyword.value for a in keywords}
        for p in mp.defaults:
            if p not in passed:
                return None, f"`{p}` is left to its default, which differs"
        edits = []
        for a in keywords:
            name = a.keyword.value
            new = mp.renames.get(name, name)
            if name in mp.dropped or not sig.accepts_keyword(new):
                return None, f"`{mp.ms}` has no parameter `{new}`"
            if new != name:
                edits.append(ctx.replace(a.keyword, new, site.top))
        new_callee, imp = _spelling(ctx, mp.ms)
        edits.insert(0, ctx.replace(call.func, new_callee, site.top))
        ie = ctx.imports_edit([imp])
        if ie is not None:
            edits.append(ie)
        title = f"Use `{new_callee}`" + (" and rename " + ", ".join(
            f"`{a}=` to `{mp.renames[a]}=`" for a in sorted(passed) if a in mp.renames) if any(
            a in mp.renames for a in passed) else "")
        if mp.kind == "consistent" and not any(a in mp.renames for a in passed):
            return Fix.safe(title, *edits), None
        return Fix.unsafe(title, *edits), None
