"""MS209: Normalize with 0-1 statistics on 0-255 pixels."""

import libcst as cst

from msfix.context import UNKNOWN, free_names
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import Once


def _comes(parts) -> str:
    """". The mean comes from ..., the std from ..." or ""."""
    text = ", ".join(parts)
    return f". {text[:1].upper()}{text[1:]}" if text else ""


def _fmt(x: float) -> str:
    r = round(x * 255, 4)
    return repr(int(r)) + ".0" if r == int(r) else repr(r)


def _later_totensor(ctx, op):
    """A `ToTensor` after `op` in the same transforms list, if any."""
    c = op.container
    if not isinstance(c, (cst.List, cst.Tuple)):
        return None
    for el in c.elements[op.index + 1:]:
        v = el.value
        f = v.func if isinstance(v, cst.Call) else v
        q = ctx.model.qualname(f, op.scope, op.order)
        if q and q.endswith(".ToTensor"):
            return v
    return None


class NormalizeUnitStatsOnByteData(Rule):
    code = "MS209"
    name = "normalize-unit-stats-on-byte-data"
    severity = Severity.ERROR
    summary = "`Normalize` with mean/std in 0-1 applied to 0-255 pixels (no Rescale/ToTensor before it)."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 2.x (mindspore.dataset.vision; the 1.x c_transforms behave the same)"
    doc = """
    ## What it does
    Flags `vision.Normalize(mean, std)` whose literal statistics are all at most 1
    (ImageNet's `[0.485, 0.456, 0.406]` / `[0.229, 0.224, 0.225]` and the like) when the
    images it receives are still uint8 in 0-255: straight from a CIFAR/MNIST reader or
    from `Decode`, with no `Rescale(1/255)` or `ToTensor` before it.

    ## Why is this bad?
    `Normalize` computes `(pixel - mean) / std` on whatever it gets; MindSpore's
    statistics are in the pixel range (`mean=[123.675, 116.28, 103.53]` for ImageNet).
    With 0-1 statistics a 255 pixel becomes about 1111 instead of 2.2: no error, the
    network just trains on inputs hundreds of times too large (silent garbage). PyTorch
    code normalises after `ToTensor()` has scaled to 0-1, which is how the 0-1 values get
    copied.

    ## Example
    ```python
    data = data.map([vision.Decode(), vision.Resize(256), vision.CenterCrop(224),
                     vision.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
                     vision.HWC2CHW()], "image")
    ```

    Use instead:
    ```python
    data = data.map([vision.Decode(), vision.Resize(256), vision.CenterCrop(224),
                     vision.Normalize([123.675, 116.28, 103.53], [58.395, 57.12, 57.375]),
                     vision.HWC2CHW()], "image")
    ```

    When a `ToTensor` follows the `Normalize` in the same list, the two are in the
    reverse of the PyTorch order; the message says to move `Normalize` after `ToTensor`
    (with `is_hwc=False`) and no fix is offered.

    ## Fix safety
    Safe: multiplying mean and std by 255 gives exactly the normalisation the 0-1
    statistics describe, `(x / 255 - m) / s == (x - 255 m) / (255 s)`. Statistics written
    at the call are rewritten; statistics set elsewhere (a constant, a config entry) are
    scaled at the use (`[x * 255 for x in MEAN]`), unsafe when a run can change them (an
    argparse option, a config file) to values already in 0-255; statistics that are a
    helper's parameters get no fix (another call may pass 0-255 values). The message
    says where the values come from.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "d = ds.Cifar10Dataset('c', usage='train')\n"
            "d = d.map([vision.Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]), vision.HWC2CHW()], 'image')\n",
            expect=(4,),
            fixed="import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                  "d = ds.Cifar10Dataset('c', usage='train')\n"
                  "d = d.map([vision.Normalize([127.5, 127.5, 127.5], [63.75, 63.75, 63.75]), "
                  "vision.HWC2CHW()], 'image')\n",
        ),
    ]
    valid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "d = ds.Cifar10Dataset('c', usage='train')\n"
            "d = d.map([vision.Rescale(1 / 255, 0), vision.Normalize([0.5] * 3, [0.25] * 3)], 'image')\n"),
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "d = ds.Cifar10Dataset('c', usage='train')\n"
            "d = d.map([vision.Normalize([125.3, 123.0, 113.9], [63.0, 62.1, 66.7])], 'image')\n"),
    ]

    def check(self, ctx):
        once = Once()
        for o in ctx.data.op_states():
            if o.op.short != "Normalize" or o.state.scale != "0-255" or o.op.call is None:
                continue
            call = o.op.call
            args = []
            vals = []
            for name, i in (("mean", 0), ("std", 1)):
                a = ctx.data.call_arg(call, name, i)
                v = ctx.data.value(a, o.op.scope, o.op.order, o.env) if a is not None else None
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    v = [v]
                if not (isinstance(v, (list, tuple)) and v and
                        all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)):
                    break
                args.append(a)
                vals.append(list(v))
            if len(vals) != 2:
                continue
            mean, std = vals
            if not all(abs(x) <= 1 for x in mean + std) or (all(x == 0 for x in mean) and all(x == 1 for x in std)):
                continue
            if not once(o.op.node):
                continue
            edits = []
            call_site = (o.env or {}).get(o.op.scope)
            safe = True
            comes = []
            for (name, _), a, v in zip((("mean", 0), ("std", 1)), args, vals):
                origin = ctx.values.origin(a, o.op.scope, o.op.order, ctx, call_site)
                if origin:
                    comes.append(f"the {name} comes from {origin}" if not comes else f"the {name} from {origin}")
                if isinstance(a, cst.Tuple) and a.lpar and not free_names(a):
                    new = ", ".join(_fmt(x) for x in v) + ("," if len(v) == 1 else "")
                elif not free_names(a):  # written at the call: the numbers are rewritten
                    new = "[" + ", ".join(_fmt(x) for x in v) + "]"
                elif ctx.values.of(a, o.op.scope, o.op.order) is UNKNOWN:
                    safe = None  # a helper's parameter: other calls may pass 0-255 statistics
                    continue
                else:
                    # set elsewhere: scaled at the use; unsafe when a run can change it (an
                    # option, a config file) to values that are already 0-255
                    if safe is not None and ctx.values.from_outside(a, o.op.scope, o.op.order):
                        safe = False
                    text = ctx.source(a)
                    atom = text if isinstance(a, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)) else f"({text})"
                    scalar = isinstance(ctx.values.of(a, o.op.scope, o.op.order), (int, float))
                    new = f"{atom} * 255" if scalar else f"[x * 255 for x in {text}]"
                edits.append(ctx.replace(a, new, o.op.top))
            if o.state.decoded_by is not None:
                src = f"`Decode` (line {ctx.span(o.state.decoded_by.node, o.state.decoded_by.top).line})"
            else:
                src = "`" + o.stage.source.source_class.rsplit(".", 1)[-1] + "`"
            later = _later_totensor(ctx, o.op)
            if later is not None:
                ctx.report(
                    o.op.node,
                    f"`Normalize` with mean {mean} and std {std} (0-1 statistics) runs on uint8 pixels in 0-255 "
                    f"from {src}, before the `ToTensor` (line {ctx.span(later, o.op.top).line}) that scales to "
                    f"0-1: the order is reversed from the PyTorch original and the result is silently wrong; move "
                    f"`Normalize` after `ToTensor` and pass `is_hwc=False`"
                    + _comes(comes),
                    top=o.op.top,
                )
                continue
            ctx.report(
                o.op.node,
                f"`Normalize` with mean {mean} and std {std} (0-1 statistics) runs on uint8 pixels in 0-255 "
                f"from {src} with no Rescale/ToTensor before it: a 255 pixel becomes "
                f"{(255 - mean[0]) / std[0]:.0f} instead of {(1 - mean[0]) / std[0]:.1f}, silently; scale mean "
                f"and std by 255" + _comes(comes),
                fix=None if safe is None else (Fix.safe if safe else Fix.unsafe)("Multiply mean and std by 255",
                                                                                   *edits),
                top=o.op.top,
            )
