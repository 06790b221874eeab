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
    runs.
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
            value = m.literal(arg.value, site.scope, site.order)
            text = expr_text(ctx, arg.value, site.top)
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
            if isinstance(value, int) and x in (0.0, 1.0):
                fix = Fix.safe("No dropout: `p=0.0`", replace_expr(ctx, arg.value, "p=0.0", site.top))
                ctx.report(
                    arg,
                    f"`{callee}({text})`: the positional argument is `keep_prob`, which must be a float: "
                    f"raises TypeError; write `p=0.0` for no dropout",
                    fix=None if old else fix, top=site.top, severity=Severity.ERROR,
                )
            elif x == 0.0:
                fix = Fix.safe("No dropout: `p=0.0`", replace_expr(ctx, arg.value, "p=0.0", site.top))
                ctx.report(
                    arg,
                    f"`{callee}({text})`: the positional argument is `keep_prob`, which must be in (0, 1]: "
                    f"raises ValueError; write `p=0.0` for no dropout",
                    fix=None if old else fix, top=site.top, severity=Severity.ERROR,
                )
            elif 0.0 < x < 0.5:
                fix = Fix.unsafe(f"Drop {x:.0%} as in PyTorch: `p={text}`",
                                 replace_expr(ctx, arg.value, f"p={text}", site.top))
                ctx.report(
                    arg,
                    f"`{callee}({text})` keeps {x:.0%} and zeroes {1 - x:.0%} of the activations: the positional "
                    f"argument is `keep_prob`, not PyTorch's drop probability; write `p={text}` to drop {x:.0%}",
                    fix=None if old else fix, top=site.top,
                )
            elif 0.5 <= x < 1.0:
                p = _fmt(1 - x)
                fix = Fix.safe(f"Spell it `p={p}` (same behaviour)", replace_expr(ctx, arg.value, f"p={p}", site.top))
                ctx.report(
                    arg,
                    f"`{callee}({text})` keeps {x:.0%} (the positional argument is the deprecated `keep_prob`), "
                    f"which reads like PyTorch's drop probability {x:.0%}; write `p={p}` for the same behaviour",
                    fix=None if old else fix, top=site.top,
                )
