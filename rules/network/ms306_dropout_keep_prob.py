"""MS306: `nn.Dropout(x)` with a positional argument, which MindSpore reads as keep_prob."""

import libcst as cst

from msfix.context import UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.fixes.edits import expr_text, replace_expr


def _last_name(expr) -> str:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return ""


def _fmt(x: float) -> str:
    return repr(round(x, 10))


class DropoutKeepProb(Rule):
    code = "MS306"
    name = "dropout-keep-prob"
    severity = Severity.WARNING
    summary = "`nn.Dropout(x)` positional: MindSpore reads x as keep_prob, PyTorch as the drop probability."
    fix_applicability = Applicability.UNSAFE
    versions = "MindSpore 1.x and 2.x (`p=` exists from 2.0)"
    doc = """
    ## What it does
    Flags `nn.Dropout` called with a positional argument:
    - a literal below 0.5 (`nn.Dropout(0.1)`), almost surely a PyTorch drop
      probability;
    - a variable named like a drop probability (`nn.Dropout(hidden_dropout_prob)`);
    - a literal 0 or 1 (error: MindSpore raises `ValueError: ... 'keep_prob' must be a
      number in range (0, 1]` for 0.0 and `TypeError: ... 'keep_prob' should be 'float'`
      for the integers 0 and 1);
    - a literal from 0.5 up to 1 (the deprecated keep_prob form; it does what it
      says, but reads like PyTorch code that means the opposite).
    The value may come from elsewhere: a constant, an argparse default, a config dict
    or file, or a helper's parameter for each call of the helper (the message says
    where). An argument written as a keep probability (`1 - drop_rate`, a name with
    `keep`) is flagged only when it crashes.
    The keyword form `keep_prob=` is left to the deprecation rule MS104.

    ## Why is this bad?
    The first parameter of `mindspore.nn.Dropout` is `keep_prob`, deprecated since 2.0
    in favour of `p` (the drop probability, as in PyTorch). A ported `nn.Dropout(0.1)`
    keeps 10% of the activations and zeroes 90% (verified on 2.10: `Dropout(0.9)`
    zeroed 10%, `Dropout(p=0.9)` zeroed 90%), without any error: the network trains
    badly and nobody knows why.

    ## Example
    ```python
    self.drop = nn.Dropout(0.1)
    ```

    Use instead:
    ```python
    self.drop = nn.Dropout(p=0.1)
    ```

    ## Fix safety
    Unsafe for a value below 0.5 or a drop-probability variable: `p=x` assumes the
    PyTorch reading (keep 1-x) and changes what the layer does. Safe for a literal from
    0.5 up to 1: `p=1-x` keeps the current behaviour and only spells it the 2.x way, and
    for the crashing 0, 0.0 and 1, where `p=0.0` (no dropout) is the only reading that
    runs. A value written elsewhere keeps its source: `p=1 - x` instead of the number
    (safe), `p=x` for a 0.0 from a constant or config (unsafe), and no fix for an int
    or for a 0.0 that one call of a helper passes.
    """
    invalid = [
        Example(
            "from mindspore import nn\ndrop = nn.Dropout(0.1)\n",
            expect=(2,),
            fixed="from mindspore import nn\ndrop = nn.Dropout(p=0.1)\n",
        ),
        Example(
            "from mindspore import nn\ndrop = nn.Dropout(0.8)\n",
            expect=(2,),
            fixed="from mindspore import nn\ndrop = nn.Dropout(p=0.2)\n",
        ),
        Example(
            "from mindspore import nn\ndef block(attention_dropout_prob):\n"
            "    return nn.Dropout(attention_dropout_prob)\n",
            expect=(3,),
            fixed="from mindspore import nn\ndef block(attention_dropout_prob):\n"
                  "    return nn.Dropout(p=attention_dropout_prob)\n",
        ),
    ]
    valid = [
        Example("from mindspore import nn\ndrop = nn.Dropout(p=0.1)\n"),
        Example("from mindspore import nn\ndrop = nn.Dropout(keep_prob=0.9)\n"),
        Example("from mindspore import nn\ndef f(keep_prob):\n    return nn.Dropout(keep_prob)\n"),
        Example("from mindspore import nn\ndrop = nn.Dropout(1.0)\n"),
        Example("from mindspore import nn\ndrop = nn.Dropout()\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        old = not ctx.api.at_least("2.0")  # no `p=` before 2.0
        for site in m.calls:
            if ctx.network.nn_class(site.qualname) != "Dropout" or site.has_star_args:
                continue
            arg = site.positional(0)
            if arg is None or site.keyword("p") is not None or site.keyword("keep_prob") is not None:
                continue
            if site.positional(1) is not None:
                continue  # the full 1.x positional signature: `p=` before positionals would not parse
            callee = ctx.source(site.node.func)
            text = expr_text(ctx, arg.value, site.top)
            literal = isinstance(arg.value, (cst.Integer, cst.Float))
            value, call = _value(ctx, site, arg.value)
            if value is UNKNOWN:
                name = _last_name(arg.value).lower()
                if "drop" not in name or "keep" in name:
                    continue
                fix = Fix.unsafe(f"Pass it as the drop probability `p={text}`",
                                 replace_expr(ctx, arg.value, f"p={text}", site.top))
                ctx.report(
                    arg,
                    f"`{callee}({text})` passes a drop probability as MindSpore's positional `keep_prob`: "
                    f"a value of 0.1 would keep 10% and zero 90% of the activations (0 raises ValueError); "
                    f"write `p={text}`",
                    fix=None if old else fix, top=site.top,
                )
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            x = float(value)
            crash = x == 0.0 or isinstance(value, int) and x == 1.0
            if _spelled_keep(arg.value) and not crash:
                continue  # `1 - drop_rate`, `keep_prob`: the 1.x keep probability, on purpose
            origin = None if literal else ctx.values.origin(arg.value, site.scope, site.order, ctx, call)
            comes = f". The value comes from {origin}" if origin else ""
            # a value written elsewhere keeps its source: the fix spells the expression, not the number
            grouped = text if isinstance(arg.value, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)) \
                else f"({text})"
            if isinstance(value, int) and x in (0.0, 1.0):
                fix = Fix.safe("No dropout: `p=0.0`", replace_expr(ctx, arg.value, "p=0.0", site.top)) \
                    if literal else None
                ctx.report(
                    arg,
                    f"`{callee}({text})`: the positional argument is `keep_prob`, which must be a float: "
                    f"raises TypeError; write `p=0.0` for no dropout{comes}",
                    fix=None if old else fix, top=site.top, severity=Severity.ERROR,
                )
            elif x == 0.0:
                if literal:
                    fix = Fix.safe("No dropout: `p=0.0`", replace_expr(ctx, arg.value, "p=0.0", site.top))
                elif call is None:
                    fix = Fix.unsafe(f"Read it as the drop probability: `p={text}`",
                                     replace_expr(ctx, arg.value, f"p={text}", site.top))
                else:
                    fix = None  # other calls of the helper may pass a keep probability
                ctx.report(
                    arg,
                    f"`{callee}({text})`: the positional argument is `keep_prob`, which must be in (0, 1]: "
                    f"raises ValueError; write `p=0.0` for no dropout{comes}",
                    fix=None if old else fix, top=site.top, severity=Severity.ERROR,
                )
            elif 0.0 < x < 0.5:
                fix = Fix.unsafe(f"Drop {x:.0%} as in PyTorch: `p={text}`",
                                 replace_expr(ctx, arg.value, f"p={text}", site.top))
                ctx.report(
                    arg,
                    f"`{callee}({text})` keeps {x:.0%} and zeroes {1 - x:.0%} of the activations: the positional "
                    f"argument is `keep_prob`, not PyTorch's drop probability; write `p={text}` to drop {x:.0%}"
                    f"{comes}",
                    fix=None if old else fix, top=site.top,
                )
            elif 0.5 <= x < 1.0:
                p = _fmt(1 - x) if literal else f"1 - {grouped}"
                fix = Fix.safe(f"Spell it `p={p}` (same behaviour)", replace_expr(ctx, arg.value, f"p={p}", site.top))
                ctx.report(
                    arg,
                    f"`{callee}({text})` keeps {x:.0%} (the positional argument is the deprecated `keep_prob`), "
                    f"which reads like PyTorch's drop probability {x:.0%}; write `p={p}` for the same behaviour"
                    f"{comes}",
                    fix=None if old else fix, top=site.top,
                )


def _value(ctx, site, expr):
    """(value, call of the helper it came from or None): a helper's parameter takes the
    first call whose value is flagged, else the first known one."""
    found = [(v, c) for v, c in ctx.values.per_call(expr, site.scope, site.order, site.statement)
             if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not found:
        return UNKNOWN, None
    bad = [(v, c) for v, c in found if not 0.5 <= v <= 1.0 or isinstance(v, int)]
    return (bad or found)[0]


def _spelled_keep(expr) -> bool:
    """`1 - rate` or a name saying keep: written as MindSpore's keep probability."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Subtract):
        left = expr.left
        return isinstance(left, (cst.Integer, cst.Float)) and float(left.value) == 1.0
    return "keep" in _last_name(expr).lower()
