"""MS106: a MindSpore callable called with missing required or too many positional arguments."""

from typing import List, Optional, Tuple

import libcst as cst

from msfix.diagnostics import Applicability, Edit, Fix, Severity
from msfix.fixes.edits import expr_offsets
from msfix.rule import Example, Rule

_POSITIONAL = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")


class BadCallArity(Rule):
    code = "MS106"
    name = "bad-call-arity"
    severity = Severity.ERROR
    fix_applicability = Applicability.UNSAFE
    summary = "A MindSpore class or function called without a required argument or with too many positional ones."
    versions = "every indexed release, 1.10 to 2.10 (signatures of the target version)"
    doc = """
    ## What it does
    Binds the arguments of every call to a MindSpore class or function to its
    signature in the target version (msfix's API index; `__init__` for classes) and
    flags required parameters left out and positional arguments beyond the last
    positional parameter. Calls with `*args`/`**kwargs` expansion and callables whose
    signature is unknown are not checked. A Primitive class called with tensors
    (`ops.ReLU(x)`) is MS107.

    ## Why is this bad?
    The call raises `TypeError: missing a required argument` / `takes N positional
    arguments but M were given` when the line runs, often after a long data-loading
    or compilation phase. Typical causes: a PyTorch habit (`nn.Momentum(params, lr)`
    without `momentum`; `nn.LayerNorm(8)` where MindSpore wants a shape tuple and
    more), or an API whose parameters changed between releases.

    ## Example
    ```python
    opt = nn.Momentum(net.trainable_params(), 0.01)
    ```

    Use instead:
    ```python
    opt = nn.Momentum(net.trainable_params(), 0.01, momentum=0.9)
    ```

    ## Fix safety
    Unsafe, for too many positional arguments only, when the call binds in other
    indexed releases and all of them read it the same way: the arguments are
    bound as there, each extra one going to the parameter of the same name,
    passed by keyword (`ops.addr(x, v1, v2, 0.5, 2.0)`, written for 1.9/1.10,
    becomes `ops.addr(x, v1, v2, beta=0.5, alpha=2.0)`: keyword-only since 2.0);
    an argument for an optional parameter the target no longer has is dropped
    when it is a plain name, attribute or literal (`amp.all_finite(grads, status)`
    of 1.10 becomes `amp.all_finite(grads)`). Unsafe because a parameter of the
    same name may mean something else in the target, and a dropped argument's
    effect is gone. No fix when no other release binds the call (`nn.Dropout(0.5,
    None, ms.float32, 1)`), when releases read it differently, when a parameter
    was renamed in between (the reading by name is lost), when the dropped
    argument computes something (`amp.all_finite(grads, amp.init_status())`), or
    when the rewritten call would still miss a required argument.
    For a missing required argument, unsafe and only for the few hyperparameters
    for which MindSpore's own docs give a conventional value (a shipped table,
    each entry with its source; today `nn.Momentum`'s `momentum=0.9`, the value
    of its API examples and mindcv's default): the value is added by keyword
    (`nn.Momentum(params, 0.005)` becomes `nn.Momentum(params, 0.005,
    momentum=0.9)`). Unsafe because the value is a choice: the script's author
    may have meant another one, and training behaves differently with it.
    No fix for any other missing required argument: the value is the author's
    choice. Where an older release had a default for it, that default is no
    certain reading either (`export`'s `file_format` was `'AIR'` before 2.0; the
    caller wanted some format, not necessarily that one).
    """
    invalid = [
        Example("import mindspore.nn as mnn\nopt = mnn.Momentum([], 0.01)\n", expect=(2,),
                fixed="import mindspore.nn as mnn\nopt = mnn.Momentum([], 0.01, momentum=0.9)\n"),
        Example("from mindspore import nn as N\nfc = N.Dense(4)\n", expect=(2,)),
        Example("import mindspore as ms\nms.set_seed(1, 2)\n", expect=(2,)),
        Example("import mindspore.ops as ops\ny = ops.addr(x, a, b, 0.5, 2.0)\n", expect=(2,),
                fixed="import mindspore.ops as ops\ny = ops.addr(x, a, b, beta=0.5, alpha=2.0)\n"),
    ]
    valid = [
        Example("import mindspore.nn as nn\nopt = nn.Momentum([], 0.01, 0.9)\n"),
        Example("import mindspore.nn as nn\nargs = (4, 2)\nfc = nn.Dense(*args)\n"),
        Example("import mindspore.nn as nn\nclass Dense(nn.Cell):\n    def __init__(self, n):\n"
                "        super().__init__()\nfc = Dense(4)\n"),
        Example("import mindspore.ops as ops\nimport mindspore as ms\ny = ops.ReLU(ms.Tensor([1.0]))\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        api = ctx.api
        for site in m.calls:
            q = api.callee(site)
            if q is None:
                continue
            b = api.bind_call(q, site.node)
            if b is None or b.unknown or not (b.missing or b.too_many):
                continue  # unknown keywords are MS105's; the binding is unclear then
            user = api.display(api.canonical_user_name(q))
            if b.too_many:
                if api.is_primitive_class(q):
                    continue  # MS107
                n = b.max_positional
                ctx.report(site.node, f"`{user}` takes at most {n} positional argument{'s' if n != 1 else ''} "
                                      f"in MindSpore {api.short_version} but the call passes {b.npos}: "
                                      "it raises TypeError", fix=_old_signature_fix(ctx, api, q, site, b, user),
                           top=site.top)
                continue
            names = ", ".join(f"`{x}`" for x in b.missing)
            ctx.report(site.node, f"`{user}` is called without the required argument{'s' if len(b.missing) > 1 else ''} "
                                  f"{names} (MindSpore {api.short_version}): it raises TypeError",
                       fix=_conventional_fix(ctx, api, q, site, b, user), top=site.top)


# ------------------------------------------------------------------------------ fix
def _conventional_fix(ctx, api, q, site, b, user) -> Optional[Fix]:
    """Every missing required argument is a hyperparameter for which MindSpore's docs give
    a conventional value (the shipped conventional_args.json): pass it by keyword."""
    call = site.node
    if not call.args or b.duplicate:
        return None
    kinds = {p.name: p.kind for p in b.sig.params}
    vals = []
    for name in b.missing:
        entry = api.conventional_value(q, name)
        if entry is None or kinds.get(name) not in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY"):
            return None
        vals.append((name, entry["value"]))
    end = expr_offsets(ctx, call.args[-1].value, site.top)[1]
    text = "".join(f", {n}={v}" for n, v in vals)
    said = ", ".join(f"`{n}={v}`" for n, v in vals)
    return Fix.unsafe(f"Pass {said}, the value MindSpore's `{user}` docs use: a conventional choice, "
                      "not necessarily the one the script's author meant; check it", Edit(end, end, text))


def _old_signature_fix(ctx, api, q, site, b, user) -> Optional[Fix]:
    """Too many positional arguments for the target, but the call binds in other indexed
    releases and every one of them gives the same reading: each extra argument is a
    parameter the target still has under the same name (passed by keyword now), or an
    optional one the target no longer has (dropped when the argument is a plain name,
    attribute or literal)."""
    call = site.node
    readings = set()
    where = {}
    for v in api.versions:
        if v == api.version:
            continue
        ob = api.bind_call_at(q, call, v)
        if ob is None or ob.unknown or ob.missing or ob.too_many or ob.duplicate:
            continue
        r = _reading(b.sig, ob.sig, call)
        readings.add(r)
        where.setdefault(r, []).append(v)
    if len(readings) != 1:
        return None
    (reading,) = readings
    if reading is None:
        return None
    args = [a for a in call.args if a.keyword is None]
    top = site.top
    edits: List[Edit] = []
    said: List[str] = []
    for i, (action, name) in enumerate(reading):
        if action == "keep":
            continue
        arg = args[i]
        start, end = expr_offsets(ctx, arg.value, top)
        if action == "kw":
            edits.append(Edit(start, start, f"{name}="))
            said.append(f"`{name}` by keyword")
        else:
            if i == 0:
                if len(call.args) < 2:
                    return None
                nxt = call.args[1]
                edits.append(Edit(start, expr_offsets(ctx, nxt.value, top)[0] if nxt.keyword is None
                                  else ctx.offsets(nxt, top)[0], ""))
            else:
                edits.append(Edit(expr_offsets(ctx, args[i - 1].value, top)[1], end, ""))
            said.append(f"`{name}` dropped (optional there, gone in {api.short_version})")
    if not edits:
        return None
    vs = where[reading]
    span = api.short(vs[0]) if len(vs) == 1 else f"{api.short(vs[0])} to {api.short(vs[-1])}"
    return Fix.unsafe(f"Bind the arguments as `{user}` of MindSpore {span} does: " + ", ".join(said), *edits)


def _reading(target, old, call: cst.Call) -> Optional[Tuple[Tuple[str, str], ...]]:
    """What each positional argument of `call` becomes in the target signature when the
    call is read with the `old` one: ("keep", name), ("kw", name) or ("drop", name);
    None when one of them has no certain place or the result would not bind."""
    pos = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args):
        return None
    old_pos = [p for p in old.params if p.kind in _POSITIONAL]
    if len(pos) > len(old_pos):
        return None  # the extra ones went to the old *args
    tpos = [p.name for p in target.params if p.kind in _POSITIONAL]
    tkw = {p.name for p in target.params if p.kind in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")}
    tall = {p.name for p in target.params}
    given = {a.keyword.value for a in call.args if a.keyword is not None}
    out: List[Tuple[str, str]] = []
    same = True
    for i, a in enumerate(pos):
        p = old_pos[i]
        if same and i < len(tpos) and tpos[i] == p.name:
            out.append(("keep", p.name))
            continue
        same = False
        if p.name in tkw and p.name not in given:
            out.append(("kw", p.name))
            given.add(p.name)
        elif p.name not in tall and p.has_default and _plain(a.value):
            out.append(("drop", p.name))
        else:
            return None
    kept = sum(1 for act, _ in out if act == "keep")
    bound = set(tpos[:kept]) | given
    if any(not p.has_default and p.kind not in ("VAR_POSITIONAL", "VAR_KEYWORD") and p.name not in bound
           for p in target.params):
        return None  # it would still miss a required argument
    return tuple(out)


def _plain(expr) -> bool:
    """A name, an attribute of names or a literal: dropping it drops no computation."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return isinstance(expr, (cst.Name, cst.Integer, cst.Float, cst.SimpleString)) or (
        isinstance(expr, cst.UnaryOperation) and isinstance(expr.expression, (cst.Integer, cst.Float)))
