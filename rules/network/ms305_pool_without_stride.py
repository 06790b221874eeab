"""MS305: `nn.MaxPool2d(k)` / `nn.AvgPool2d(k)` without stride in a script ported from PyTorch."""

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.fixes.edits import expr_text, insert_after_expr

POOLS = frozenset({"MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d"})


def _pools(k) -> bool:
    """A kernel size larger than 1 (an int or a tuple of ints)."""
    if isinstance(k, (tuple, list)):
        return bool(k) and all(isinstance(x, int) and not isinstance(x, bool) for x in k) and any(x != 1 for x in k)
    return isinstance(k, int) and not isinstance(k, bool) and k != 1


class PoolWithoutStride(Rule):
    code = "MS305"
    name = "pool-without-stride"
    severity = Severity.WARNING
    summary = "A pooling layer without `stride` in a PyTorch port: MindSpore's stride defaults to 1."
    fix_applicability = Applicability.UNSAFE
    versions = "MindSpore 1.x and 2.x"
    doc = """
    ## What it does
    Flags `nn.MaxPool1d/2d/3d` and `nn.AvgPool1d/2d/3d` built with a kernel size larger
    than 1, no `stride` and no `pad_mode`, in a script that shows other signs of a
    PyTorch port (it imports torch, defines `forward` instead of `construct`, passes
    `padding=` to a convolution without `pad_mode`, gives BatchNorm a torch-style
    momentum or `nn.Dropout` a drop probability). The kernel size may come from a
    constant, an argparse default, a config dict or file, or a helper's parameter for a
    call of the helper (the message says where).

    ## Why is this bad?
    In PyTorch the stride of a pooling layer defaults to its kernel size; in MindSpore
    it defaults to 1. `nn.MaxPool2d(2)` halves a 32x32 map in PyTorch and gives 31x31
    in MindSpore (verified on 2.10), silently: the network still runs when the next
    layer adapts to the shape, but it computes something else, more slowly.

    MindSpore code sometimes pools with stride 1 on purpose, so scripts without other
    signs of a PyTorch port are not flagged.

    ## Example
    ```python
    self.pool = nn.MaxPool2d(2)
    ```

    Use instead:
    ```python
    self.pool = nn.MaxPool2d(2, stride=2)
    ```

    ## Fix safety
    Unsafe: sets `stride` to the kernel size, the PyTorch default; this changes the
    output shape, which is the point, but layers sized for the old shape (a `Dense`
    after a flatten) must match.
    """
    invalid = [
        Example(
            "import torch\nfrom mindspore import nn\npool = nn.MaxPool2d(2)\n",
            expect=(3,),
            fixed="import torch\nfrom mindspore import nn\npool = nn.MaxPool2d(2, stride=2)\n",
        ),
    ]
    valid = [
        Example("from mindspore import nn\npool = nn.MaxPool2d(2)\n"),
        Example("import torch\nfrom mindspore import nn\npool = nn.MaxPool2d(2, 2)\n"),
        Example("import torch\nfrom mindspore import nn\npool = nn.AvgPool2d(kernel_size=3, pad_mode='same')\n"),
        Example("import torch\nfrom mindspore import nn\npool = nn.MaxPool2d(1)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        net = ctx.network.info
        signals = None
        for site in m.calls:
            cls = ctx.network.nn_class(site.qualname)
            if cls not in POOLS or site.has_star_args:
                continue
            if site.arg("stride", 1) is not None or site.arg("pad_mode", 2) is not None:
                continue
            kernel = site.arg("kernel_size", 0)
            if kernel is None:
                continue
            # a helper's parameter: the first call of the helper whose kernel is larger than 1
            found = [(v, c) for v, c in ctx.values.per_call(kernel.value, site.scope, site.order, site.statement)
                     if _pools(v)]
            if not found:
                continue
            k, call = found[0]
            if signals is None:
                signals = net.torch_signals()
            if not signals:
                return
            ktext = expr_text(ctx, kernel.value, site.top)
            callee = ctx.source(site.node.func)
            fix = Fix.unsafe(f"Set `stride={ktext}` (the PyTorch default)",
                             insert_after_expr(ctx, kernel.value, f", stride={ktext}", site.top))
            shown = f"kernel_size={ktext}" if kernel.keyword is not None else ktext
            origin = ctx.values.origin(kernel.value, site.scope, site.order, ctx, call)
            ctx.report(
                site.node,
                f"`{callee}({shown})` has no stride: MindSpore's stride defaults to 1, PyTorch's to the kernel "
                f"size, and this script looks like a PyTorch port ({signals[0]}); pass `stride={ktext}` if "
                f"the pooling should downsample" + (f". The kernel size comes from {origin}" if origin else ""),
                fix=fix, top=site.top,
            )
