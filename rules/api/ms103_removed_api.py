"""MS103: a MindSpore name that exists in some indexed release but not in the target one."""


from msfix.diagnostics import Applicability, Severity
from msfix.fixes.moves import import_of, module_fix, moved_fix, name_fix, through_missing_import
from msfix.rule import Example, Rule


class RemovedApi(Rule):
    code = "MS103"
    name = "removed-api"
    severity = Severity.ERROR
    summary = "A MindSpore name that was removed before (or added after) the target version."
    fix_applicability = Applicability.SAFE
    versions = ("every indexed release, 1.0 to 2.10: c_transforms/py_transforms removed in 2.8, "
                "ms_function/ms_class removed in 2.6, ops/nn.ResizeBilinear removed after 2.0")
    doc = """
    ## What it does
    Checks every MindSpore path the script names against msfix's API index for the
    target version (`--target-version`, default: the installed MindSpore, else the
    newest indexed release) and flags names that exist in some other indexed release
    only, saying when they were removed or added:
    - `mindspore.dataset.vision.c_transforms` / `py_transforms` and
      `mindspore.dataset.transforms.c_transforms` / `py_transforms` (deprecated in 1.8,
      last in 2.7, removed in 2.8: `ModuleNotFoundError` on 2.10);
    - `ms_function` / `ms_class` (replaced by `jit` / `jit_class` in 2.0, removed in
      2.6: `ImportError` on 2.10);
    - `ops.ResizeBilinear` / `nn.ResizeBilinear` (last in 2.0: `AttributeError`);
    - names newer than the target version (`ms.set_device` with a 2.0 target,
      `mindspore.mint` before 2.5). When the target has the same name under another
      module, the message says how the target spells it and the fix rewrites to that
      spelling: with a 1.7 target `mindspore.dataset.vision.RandomCropDecodeResize`
      is `vision.c_transforms.RandomCropDecodeResize`, `transforms.TypeCast` is
      `transforms.c_transforms.TypeCast`, `mindspore.train.ModelCheckpoint` is
      `mindspore.train.callback.ModelCheckpoint`; with 1.5, `ms.set_context` is
      `ms.context.set_context`. The candidates come from the API index: the same
      name, of the same kind, existing at the target, in a module the rename tables
      pair with the script's one (`c_transforms` and `vision`, `train.callback` and
      `train`, `context` and `mindspore`), else the same object under another path.
    Aliases (`import mindspore.nn as mnn`, `from mindspore import nn as N`,
    `ms.nn.X`) are resolved; the script's own definitions shadow MindSpore names;
    code under `try/except ImportError` or a version/`hasattr` test is left alone.

    ## Why is this bad?
    The script fails at import time (`ModuleNotFoundError`, `ImportError`) or when the
    line runs (`AttributeError`) on the target MindSpore version.

    ## Example
    ```python
    import mindspore.dataset.vision.c_transforms as CV
    from mindspore import ms_function
    ```

    Use instead:
    ```python
    import mindspore.dataset.vision as CV
    from mindspore import jit
    ```

    ## Fix safety
    Safe where the new home has the same names (checked per name in the index for the
    target version): the c_transforms/py_transforms modules become
    `mindspore.dataset.vision` / `mindspore.dataset.transforms` (also
    `from ... import Inter`), `ms_function`/`ms_class` become `jit`/`jit_class` (uses
    renamed). Unsafe when the semantics differ: `py_transforms.Normalize` (CHW input)
    versus `vision.Normalize` (`is_hwc=True` by default), and `ms_function` called with
    `input_signature`/`hash_args`/`jit_config`, which `jit` does not take.
    `ops.ResizeBilinear` has no automatic fix (`ops.interpolate` or
    `ops.ResizeBilinearV2` differ in corner alignment). A rewrite to the target's
    spelling of a moved name is safe when exactly one module of the best rank has the
    name, of the same kind and with the same parameters as the nearest release that
    has the script's spelling; otherwise it is unsafe and the message says why
    (`vision.RandomCrop` at 1.7: both `c_transforms` and `py_transforms` have it, the
    first is proposed; `vision.Normalize`: its parameters differ). A from-import
    whose names move to different modules is split.
    """
    invalid = [
        Example("import mindspore.dataset.vision.c_transforms as CV\nop = CV.Resize(32)\n", expect=(1,),
                fixed="import mindspore.dataset.vision as CV\nop = CV.Resize(32)\n"),
        Example("from mindspore.dataset.vision.c_transforms import Inter\n", expect=(1,),
                fixed="from mindspore.dataset.vision import Inter\n"),
        Example("from mindspore import ms_function\n\n@ms_function\ndef f(x):\n    return x\n", expect=(1,),
                fixed="from mindspore import jit\n\n@jit\ndef f(x):\n    return x\n"),
        Example("import mindspore.ops as ops\nresize = ops.ResizeBilinear((8, 8))\n", expect=(2,)),
    ]
    valid = [
        Example("import mindspore.dataset.vision as CV\nop = CV.Resize(32)\n"),
        Example("try:\n    from mindspore import jit\nexcept ImportError:\n    from mindspore import ms_function as jit\n"),
        Example("import mindspore.ops as ops\nclass ResizeBilinear:\n    pass\nr = ResizeBilinear()\n"),
    ]

    def check(self, ctx):
        m, api = ctx.model, ctx.api
        modules, names, hints = api.rename_tables()
        seen = set()
        refs = {id(r.node): r for r in m.refs}
        for qualname, node, top, group in api.targets():
            missing = api.first_missing(qualname)
            if missing is None or not api.versions_of(missing) or (missing, group) in seen:
                continue
            rec, alias = import_of(ctx, node)
            ref = refs.get(id(node))
            if ref is not None and through_missing_import(ctx, ref):
                continue  # reported at the import
            if api.guarded(node, top):
                continue
            seen.add((missing, group))
            when = api.when_text(missing)
            msg = f"`{missing}` does not exist in MindSpore {api.short_version}" + (f": {when}" if when else "")
            fix = None
            if missing in modules:
                new = modules[missing]["new"]
                msg += f"; its contents live in `{new}`"
                fix = module_fix(ctx, missing, new, modules[missing], rec, alias, ref, top)
            elif missing in names:
                new = names[missing]["new"]
                msg += f"; use `{new}`"
                fix = name_fix(ctx, missing, new, names[missing], rec, alias, ref, top)
            elif missing in hints:
                msg += f"; {hints[missing]}"
            elif (sp := api.target_spelling(missing)) is not None:
                msg += f"; MindSpore {api.short_version} spells it `{sp.qualname}`"
                if sp.note:
                    msg += f" ({sp.note})"
                fix = moved_fix(ctx, missing, sp, rec, alias, ref, top)
            else:
                dep = None
                for v in reversed(api.versions_of(missing)):
                    dep = api.deprecation(missing, v)
                    if dep is not None:
                        break
                if dep is not None and dep.replacement:
                    msg += f"; it was deprecated in favour of `{dep.replacement}`"
            ctx.report(node, msg, fix=fix, top=top)
