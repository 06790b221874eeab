"""MS106: a MindSpore callable called with missing required or too many positional arguments."""

from msfix.diagnostics import Severity
from msfix.rule import Example, Rule


class BadCallArity(Rule):
    code = "MS106"
    name = "bad-call-arity"
    severity = Severity.ERROR
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
    No automatic fix: the missing value is the author's choice.
    """
    invalid = [
        Example("import mindspore.nn as mnn\nopt = mnn.Momentum([], 0.01)\n", expect=(2,)),
        Example("from mindspore import nn as N\nfc = N.Dense(4)\n", expect=(2,)),
        Example("import mindspore as ms\nms.set_seed(1, 2)\n", expect=(2,)),
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
                                      "it raises TypeError", top=site.top)
                continue
            names = ", ".join(f"`{x}`" for x in b.missing)
            ctx.report(site.node, f"`{user}` is called without the required argument{'s' if len(b.missing) > 1 else ''} "
                                  f"{names} (MindSpore {api.short_version}): it raises TypeError", top=site.top)
