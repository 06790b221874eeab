"""MS107: a Primitive class called with its inputs instead of being instantiated first."""

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule


class PrimitiveCalledWithTensors(Rule):
    code = "MS107"
    name = "primitive-called-with-tensors"
    severity = Severity.ERROR
    summary = "A Primitive class (`ops.ReLU`, `P.Add`) called with tensors instead of being instantiated: `ops.ReLU()(x)`."
    fix_applicability = Applicability.SAFE
    versions = "every indexed release, 1.10 to 2.10 (Primitive classes and their `__init__` of the target version)"
    doc = """
    ## What it does
    Flags calls of a Primitive class (`mindspore.ops.ReLU`, `ops.operations.Add`,
    imported as `P`, `ops`, or by name) with more positional arguments than its
    `__init__` takes in the target version: the arguments are the operator's inputs,
    and the class was meant to be instantiated first.

    ## Why is this bad?
    `ops.ReLU(x)` calls `ReLU.__init__(x)`, which takes no argument: `TypeError` when
    the line runs. Primitives are operator objects: `ops.ReLU()(x)`, or the
    functional form `ops.relu(x)`.

    ## Example
    ```python
    from mindspore.ops import operations as P
    y = P.ReLU(x)
    z = P.Add(x, y)
    ```

    Use instead:
    ```python
    y = P.ReLU()(x)
    z = P.Add()(x, y)
    ```

    ## Fix safety
    Safe when the call passes only positional arguments and the Primitive's
    `__init__` needs none: `P.ReLU(x)` becomes `P.ReLU()(x)`, the only reading that
    runs. Otherwise (keywords, or an `__init__` with required parameters) no fix.
    """
    invalid = [
        Example("from mindspore.ops import operations as P\ny = P.ReLU(1.0)\n", expect=(2,),
                fixed="from mindspore.ops import operations as P\ny = P.ReLU()(1.0)\n"),
        Example("import mindspore as ms\nz = ms.ops.Add(1, 2)\n", expect=(2,),
                fixed="import mindspore as ms\nz = ms.ops.Add()(1, 2)\n"),
    ]
    valid = [
        Example("from mindspore.ops import operations as P\nrelu = P.ReLU()\n"),
        Example("import mindspore.ops as ops\ny = ops.relu(1.0)\nsm = ops.Softmax(-1)\n"),
        Example("import mindspore.ops as ops\nclass ReLU:\n    def __init__(self, x):\n        pass\ny = ReLU(1.0)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        api = ctx.api
        for site in m.calls:
            q = api.callee(site)
            if q is None or not api.is_primitive_class(q):
                continue
            b = api.bind_call(q, site.node)
            if b is None or not b.too_many:
                continue
            user = api.display(api.canonical_user_name(q))
            n = b.max_positional
            msg = (f"`{user}` is a Primitive class: `{user}(...)` passes the {b.npos} argument"
                   f"{'s' if b.npos != 1 else ''} to its __init__, which takes "
                   f"{n if n else 'no'} positional argument{'s' if n != 1 else ''} (MindSpore {api.short_version}, "
                   f"TypeError); instantiate it first: `{user}()(...)`")
            fix = None
            call = site.node
            if n == 0 and not b.sig.required() and all(a.keyword is None for a in call.args):
                func = m.module.code_for_node(call.func)
                fix = Fix.safe(f"Call `{func}()(...)`", ctx.replace(call.func, func + "()", site.top))
            ctx.report(call, msg, fix=fix, top=site.top)
