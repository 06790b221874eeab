"""MS409: amp_level="O2" with a CPU device target."""

import libcst as cst

from msfix.context import MODEL_ARGS, MODEL_QUALNAMES
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule

BUILD_TRAIN = ("mindspore.amp.build_train_network", "mindspore.train.amp.build_train_network")


class AmpO2OnCpu(Rule):
    code = "MS409"
    name = "amp-o2-on-cpu"
    severity = Severity.ERROR
    summary = "`amp_level=\"O2\"` on CPU needs `loss_scale_manager=None` (or a fixed one without overflow checks)."
    fix_applicability = Applicability.UNSAFE
    versions = "MindSpore 2.x (checked on 2.10.0)"
    doc = """
    ## What it does
    Flags `Model(..., amp_level="O2")` and `amp.build_train_network(..., level="O2")`
    in a script that sets the CPU device target (`ms.set_device("CPU")`,
    `set_context(device_target="CPU")`), unless `loss_scale_manager` is `None` or
    `FixedLossScaleManager(..., drop_overflow_update=False)`.

    ## Why is this bad?
    O2 installs a dynamic loss scale manager by default, which needs overflow
    detection that the CPU backend lacks: MindSpore 2.10 raises `ValueError: Only
    loss_scale_manager=None or loss_scale_manager=FixedLossScaleManager(drop_overflow_update=False)
    are supported on device CPU` when the Model is built. `O1`, `O3` and `auto` build
    fine on CPU.

    ## Example
    ```python
    ms.set_device("CPU")
    model = Model(net, loss_fn, optimizer, amp_level="O2")
    ```

    Use instead:
    ```python
    model = Model(net, loss_fn, optimizer, amp_level="O2", loss_scale_manager=None)
    ```

    ## Fix safety
    Unsafe: without loss scaling, float16 gradients may underflow; on CPU that is
    the only O2 configuration that runs (or use `amp_level="O0"`). An explicit
    `DynamicLossScaleManager(...)` is replaced by `None` (a dynamic scale lowers itself
    on overflow, which CPU cannot detect; keeping its initial scale as a fixed one could
    overflow unseen). A `FixedLossScaleManager` keeps its scale and gets
    `drop_overflow_update=False`: overflowing steps are then applied instead of skipped.
    """
    invalid = [
        Example(
            "import mindspore as ms\nfrom mindspore import Model\nms.set_device('CPU')\n"
            "model = Model(net, loss_fn, opt, amp_level='O2')\n",
            expect=(4,),
            fixed="import mindspore as ms\nfrom mindspore import Model\nms.set_device('CPU')\n"
                  "model = Model(net, loss_fn, opt, amp_level='O2', loss_scale_manager=None)\n",
        ),
    ]
    valid = [
        Example("import mindspore as ms\nfrom mindspore import Model\nms.set_device('CPU')\n"
                "model = Model(net, loss_fn, opt, amp_level='O3')\n"),
        Example("import mindspore as ms\nfrom mindspore import Model\nms.set_device('GPU')\n"
                "model = Model(net, loss_fn, opt, amp_level='O2')\n"),
        Example("import mindspore as ms\nfrom mindspore import Model\nms.set_device('CPU')\n"
                "model = Model(net, loss_fn, opt, amp_level='O2', loss_scale_manager=None)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        targets = ctx.training.device_targets()
        if not targets or any(not isinstance(t, str) or t.upper() != "CPU" for t in targets):
            return
        sites = [(s, s.arg("amp_level", MODEL_ARGS["amp_level"])) for s in m.calls_to(*MODEL_QUALNAMES)]
        sites += [(s, s.arg("level", 3)) for s in m.calls_to(*BUILD_TRAIN)]
        for site, level in sites:
            if level is None or site.has_star_args:
                continue
            if m.literal(level.value, site.scope, site.order) != "O2":
                continue
            lsm = site.keyword("loss_scale_manager")
            if lsm is not None and not self._bad_manager(m, site, lsm):
                continue
            fix = None
            if lsm is None:
                last = site.node.args[-1]
                fix = Fix.unsafe("Pass `loss_scale_manager=None`",
                                 ctx.insert_after(last.value, ", loss_scale_manager=None", site.top))
                what = "O2 uses a dynamic loss scale manager by default and"
                advice = "pass `loss_scale_manager=None` or use `amp_level=\"O0\"`"
            else:
                c = m.instance_call(lsm.value, site.scope, site.order)
                if c.qualname.rsplit(".", 1)[-1] == "FixedLossScaleManager":
                    # keep the fixed scale; only the overflow check (skip the step) cannot run on CPU
                    what = "the `FixedLossScaleManager` skips overflowing updates (drop_overflow_update=True), " \
                           "which needs overflow detection the CPU backend lacks:"
                    advice = "pass `drop_overflow_update=False` (overflowing steps are then applied) or " \
                             "`loss_scale_manager=None`"
                    fix = self._keep_fixed_scale(ctx, c)
                else:
                    what = "the dynamic loss scale manager needs overflow detection, which the CPU backend lacks:"
                    advice = "pass `loss_scale_manager=None` (no loss scaling) or use `amp_level=\"O0\"`"
                    fix = Fix.unsafe("Pass `loss_scale_manager=None` (the dynamic loss scale cannot run on CPU)",
                                     ctx.replace(lsm.value, "None", site.top))
            ctx.report(level.value,
                       f"`amp_level=\"O2\"` on the CPU target: {what} "
                       "MindSpore raises ValueError (only loss_scale_manager=None or "
                       "FixedLossScaleManager(drop_overflow_update=False) are supported on CPU); "
                       f"{advice}",
                       fix=fix, top=site.top)

    @staticmethod
    def _keep_fixed_scale(ctx, c):
        """`drop_overflow_update=False` written into the `FixedLossScaleManager(...)` call."""
        if c.has_star_args:
            return None
        a = c.arg("drop_overflow_update", 1)
        if a is not None:
            edit = ctx.replace(a.value, "False", c.top)
        elif c.node.args:
            edit = ctx.insert_after(c.node.args[-1].value, ", drop_overflow_update=False", c.top)
        else:
            edit = ctx.replace(c.node, f"{ctx.source(c.node.func)}(drop_overflow_update=False)", c.top)
        return Fix.unsafe("Pass `drop_overflow_update=False` to the `FixedLossScaleManager` (keep the scale)", edit)

    @staticmethod
    def _bad_manager(m, site, lsm) -> bool:
        v = m.literal(lsm.value, site.scope, site.order)
        if v is None:
            return False
        if isinstance(lsm.value, cst.Name):
            b = m.lookup(lsm.value.value, site.scope, site.order)
            if b is None or len(b.scope.bindings.get(lsm.value.value, ())) != 1:
                return False  # bound in several branches: stay silent
        c = m.instance_call(lsm.value, site.scope, site.order)
        if c is None or not c.qualname:
            return False  # unknown: stay silent
        short = c.qualname.rsplit(".", 1)[-1]
        if short == "DynamicLossScaleManager":
            return True
        if short == "FixedLossScaleManager":
            a = c.arg("drop_overflow_update", 1)
            return a is None or m.literal(a.value, c.scope, c.order) is not False
        return False
