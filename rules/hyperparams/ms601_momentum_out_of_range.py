"""MS601: optimizer momentum outside [0, 1)."""

import libcst as cst

from msfix.context import is_number
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule


FLOAT_ONLY = frozenset({"Momentum", "RMSProp"})  # reject an int momentum with TypeError (2.10)


class MomentumOutOfRange(Rule):
    code = "MS601"
    name = "momentum-out-of-range"
    severity = Severity.ERROR
    summary = "Optimizer momentum must lie in [0, 1) (and be a float for `nn.Momentum`/`nn.RMSProp`)."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x (checked on 2.10.0)"
    doc = """
    ## What it does
    Flags a `momentum` of `nn.Momentum`, `nn.SGD`, `nn.RMSProp` and
    `experimental.optim.SGD` that is negative or at least 1: a literal, a module
    constant, an argparse default or a config value (the message says where it comes
    from).

    ## Why is this bad?
    A negative momentum raises `ValueError: ... the argument 'momentum' must be at
    least 0.0` when the optimizer is built. A momentum of 1 or more is accepted
    without a word by MindSpore 2.10, but the velocity `v = m * v + g` then never
    decays: every past gradient keeps pushing with full (or growing) weight and the
    loss diverges. Typical values are 0.9 (0.99 at most).
    `nn.Momentum` and `nn.RMSProp` also reject an int momentum, even `0`:
    `TypeError: For 'Momentum', the type of 'momentum' should be 'float', but got
    type 'int'` (`nn.SGD` accepts ints).

    ## Example
    ```python
    optimizer = nn.Momentum(net.trainable_params(), learning_rate=0.01, momentum=9)
    ```

    Use instead:
    ```python
    optimizer = nn.Momentum(net.trainable_params(), learning_rate=0.01, momentum=0.9)
    ```

    ## Fix safety
    The fix edits the value where it is written: at the call, or the one constant, dict /
    EasyDict / namespace entry or argparse default it comes from (not a config file, a
    helper's parameter or a computed value). Safe for an int in range (`0` -> `0.0`):
    the same value as a float. Unsafe for a value out of range: it writes the usual
    `0.9`, but the intended value is a choice (0.9 for `9`, `1 - m` for a torch-style
    dampening, ...).
    """
    invalid = [
        Example("from mindspore import nn\nopt = nn.Momentum(params, 0.01, 1.0)\n", expect=(2,)),
        Example("from mindspore import nn\nopt = nn.SGD(params, 0.01, momentum=-0.9)\n", expect=(2,)),
        Example("from mindspore import nn\nopt = nn.Momentum(params, 0.01, 0)\n", expect=(2,),
                fixed="from mindspore import nn\nopt = nn.Momentum(params, 0.01, 0.0)\n"),
    ]
    valid = [
        Example("from mindspore import nn\nopt = nn.Momentum(params, 0.01, 0.9)\n"),
        Example("from mindspore import nn\nopt = nn.SGD(params, 0.01)\n"),
        Example("from mindspore import nn\nopt = nn.SGD(params, 0.01, 0)\n"),
    ]

    def check(self, ctx):
        for opt in ctx.training.optimizers():
            mo = opt.momentum
            call = None
            if opt.momentum_arg is not None and not is_number(mo):
                # a helper's parameter: the value of each call of the helper (the first out of range)
                found = [(v, c) for v, c in ctx.values.per_call(opt.momentum_arg.value, opt.call.scope,
                                                                  opt.call.order, opt.call.statement) if is_number(v)]
                bad = [(v, c) for v, c in found if not 0 <= v < 1 or isinstance(v, int) and opt.kind in FLOAT_ONLY]
                mo, call = (bad or found or [(mo, None)])[0]
            if opt.momentum_arg is None or not is_number(mo):
                continue
            int_rejected = isinstance(mo, int) and opt.kind in FLOAT_ONLY
            if 0 <= mo < 1 and not int_rejected:
                continue
            node = opt.momentum_arg.value
            fix = None
            # the one literal the value is written as (at the call, a constant, a config entry,
            # an argparse default): where a fix edits it
            lit = ctx.values.defining_literal(node, opt.call.scope, opt.call.order) if call is None else None
            if lit is not None and _number(lit) != mo:
                lit = None
            top = opt.call.top if lit is node else None
            origin = ctx.values.origin(node, opt.call.scope, opt.call.order, ctx, call)
            where = f". The value comes from {origin}" if origin else ""
            if int_rejected:
                what = f"`{opt.kind}` raises TypeError when it is built (the type of 'momentum' should be 'float')"
                if 0 <= mo < 1:
                    if lit is not None:
                        fix = Fix.safe(f"Write {float(mo)!r}", ctx.replace(lit, repr(float(mo)), top))
                    ctx.report(node, f"momentum {mo!r} is an int: {what}; write {float(mo)!r}{where}", fix=fix,
                               top=opt.call.top)
                    continue
            elif mo < 0:
                what = f"`{opt.kind}` raises ValueError when it is built (momentum must be at least 0.0)"
            else:
                what = ("MindSpore accepts it silently, but the velocity never decays "
                        "(v = momentum * v + grad) and training diverges")
            if lit is not None:
                # the intended value is a choice (0.9 for `9` or `1`, 1 - m for a torch dampening)
                fix = Fix.unsafe("Write 0.9 (the usual momentum)", ctx.replace(lit, "0.9", top))
            ctx.report(node, f"momentum {mo!r} is outside [0, 1): {what}; use a value such as 0.9{where}",
                       fix=fix, top=opt.call.top)


def _number(lit: cst.BaseExpression):
    """The value of a number literal (`-0.9` included)."""
    if isinstance(lit, cst.UnaryOperation):
        v = _number(lit.expression)
        return -v if isinstance(lit.operator, cst.Minus) else v
    return lit.evaluated_value
