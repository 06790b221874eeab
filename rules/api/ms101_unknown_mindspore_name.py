"""MS101: a module, name or attribute under `mindspore` that no MindSpore release has."""


import collections

import libcst as cst

from msfix.context import ApiView
from msfix.diagnostics import Applicability, Edit, Fix, Severity
from msfix.rule import Example, Rule

# Keywords of a model-zoo call that mean mindcv's `num_classes` (the MindSpore models
# repository and MindSpore tutorials spell it `class_num`).
CLASS_KEYWORDS = ("num_classes", "class_num")
SHOWN = 6  # candidates named in a message


def near_misses(api, missing: str) -> list:
    """Names of `missing`'s parent module in the target version spelled the same but for
    case and underscores (`nn.Conv2D` -> [`Conv2d`]; `ops.Relu` -> [`ReLU`, `relu`])."""
    parent, name = missing.rsplit(".", 1)
    key = api.mindcv_key(name)
    return sorted(n for n in api.members(parent)
                  if n != name and not n.startswith("_") and api.mindcv_key(n) == key)


def curated(missing: str) -> bool:
    """msfix's own tables say what to use instead (`ops.CrossEntropy` is PyTorch's loss
    class, not a misspelt `ops.cross_entropy`): they come before a spelling guess."""
    return bool(ApiView.table("api_renames.json").get("hints", {}).get(missing)) \
        or missing in ApiView.torch_table().get("missing", {})


def zoo_candidates(missing: str, qualname: str) -> list | None:
    """The mindcv models a model-zoo name stands for, or None when the name is not used
    as one. A model-zoo name is the last part of `qualname`, either itself the missing
    name directly under `mindspore`, `mindspore.nn` or `nn.layer` (`nn.ResNet50`), or
    the name right under a missing module there (`mindspore.vision.resnet50`)."""
    modules = ApiView.torch_table().get("model_zoo", {}).get("modules", ())
    base, model = qualname.rsplit(".", 1)
    if qualname == missing:
        place = base
    elif base == missing:
        place = missing.rsplit(".", 1)[0]
    else:
        return None
    if place not in modules:
        return None
    key = ApiView.mindcv_key(model)
    return [c for c in ApiView.mindcv_registry().candidates(model)
            if ApiView.mindcv_key(c) == key or _boundary_after(c, key)]


def _boundary_after(name: str, key: str) -> bool:
    """`name` goes on after its first len(key) letters (underscores not counted) with a
    new word: an underscore or a digit (`mobilenet_v2_100` after `mobilenetv2`, `vgg16`
    after `vgg`), not the rest of a longer word (`densenet121` after `dense`)."""
    n = 0
    for i, ch in enumerate(name):
        if n == len(key):
            return ch == "_" or ch.isdigit()
        if ch != "_":
            n += 1
    return False


def listed(names) -> str:
    names = list(names)
    shown = ", ".join(f"`{n}`" for n in names[:SHOWN])
    return shown + (f" ... ({len(names)} models)" if len(names) > SHOWN else "")


def zoo_hint(model: str, cands: list) -> str:
    reg = ApiView.mindcv_registry()
    where = f"mindcv {reg.version} (MindSpore's model zoo, `pip install mindcv=={reg.version}`)"
    if len(cands) == 1:
        return f"MindSpore has no model zoo in the framework: use `mindcv.models.{cands[0]}` from {where}"
    if cands:
        return (f"MindSpore has no model zoo in the framework; {where} has several models "
                f"`{model}` may mean: {listed(cands)}")
    return (f"MindSpore has no model zoo in the framework, and {where} has no `{model}`: "
            "use the model from the MindSpore models repository")


def hint(api, missing: str, near=(), zoo=None, model: str = "") -> str:
    own = api.table("api_renames.json").get("hints", {}).get(missing)
    if own:
        return own
    table = api.torch_table()
    parent, name = missing.rsplit(".", 1)
    if near:
        return "did you mean " + " or ".join(f"`{n}`" for n in near) + "?"
    if zoo:
        return zoo_hint(model or name, zoo)
    zoo_table = table.get("model_zoo", {})
    if name in zoo_table.get("names", ()) and parent in zoo_table.get("modules", ()):
        return zoo_hint(name, [])
    entry = table.get("missing", {}).get(missing)
    if entry is not None:
        torch = f" (`{entry['torch']}` is PyTorch)" if entry.get("torch") else ""
        note = f"; {entry['note']}" if entry.get("note") else ""
        return f"use `{entry['use']}`{torch}{note}"
    close = api.suggest(missing)
    if close:
        return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
    return ""


def missing_part(node, qualname: str, missing: str):
    """The Attribute of the dotted use `node` (resolving to `qualname`) that resolves to
    its missing prefix `missing`; None when the use is not a dotted attribute chain."""
    if not isinstance(node, cst.Attribute):
        return None
    target = node
    for _ in range(qualname.count(".") - missing.count(".")):
        target = target.value
        if not isinstance(target, cst.Attribute):
            return None
    return target


class UnknownMindSporeName(Rule):
    code = "MS101"
    name = "unknown-mindspore-name"
    severity = Severity.ERROR
    fix_applicability = Applicability.UNSAFE
    summary = "A module, class or function under `mindspore` that does not exist in any release."
    versions = "every indexed release, 1.0 to 2.10"
    doc = """
    ## What it does
    Checks every MindSpore path the script names (`nn.ResNet50`, `from mindspore.nn
    import Linear`, `import mindspore.vision`) against msfix's index of the public API
    of every indexed MindSpore release, resolving aliases
    (`import mindspore.nn as mnn`, `from mindspore import nn as N`, `ms.nn.X`). A name
    the script defines itself (a local `class ResNet50`) is not a MindSpore name.
    Names that exist in some other release are left to MS103 (removed or not yet
    added).

    Model-zoo names (`nn.ResNet50`, `nn.vgg16`, `ms.vision.resnet50`) are looked up in
    the model registry of mindcv 0.3.0, MindSpore's model zoo (shipped with msfix as
    data read from the mindcv wheel: every `@register_model` constructor and its
    signature). The lookup ignores case and underscores (`ResNet50` is `resnet50`,
    `InceptionV3` is `inception_v3`); a family name stands for its variants
    (`MobileNetV2`: the 22 `mobilenet_v2_*` widths and resolutions), which the message
    lists. A name that differs from a name of the same MindSpore module only by case
    or underscores (`nn.Conv2D`, `nn.Adaptive_Avg_Pool2d`) names that name.

    ## Why is this bad?
    The name was never part of MindSpore: copied from PyTorch (`nn.Module`,
    `nn.Sequential`), from a model zoo (`nn.ResNet50`: MindSpore has no model zoo in
    `mindspore.nn`), misspelled (`nn.Conv2D`), or invented by a code generator. The
    script fails with `AttributeError` or `ImportError` when it reaches the line.

    ## Example
    ```python
    import mindspore.nn as nn
    backbone = nn.ResNet50(num_classes=10)
    conv = nn.Conv2D(3, 8, 3)
    ```

    Use instead:
    ```python
    import mindspore.nn as nn
    from mindcv.models import resnet50
    backbone = resnet50(num_classes=10)
    conv = nn.Conv2d(3, 8, 3)
    ```

    ## Fix safety
    Unsafe fixes, both guesses at intent:
    - a model-zoo call with exactly one mindcv model for its name becomes a call of
      that mindcv constructor, imported at the top (`from mindcv.models import
      resnet50`; under another name, `mindcv_resnet50`, when the script already uses
      that name anywhere, so no other name changes meaning). The keywords are kept
      (`class_num=` becomes `num_classes=`), pretrained weights stay off (the
      constructor's default; `pretrained=False` is added where the default is not
      False), and mindcv must be installed (`pip install mindcv==0.3.0`; the
      architecture is mindcv's, e.g. its ResNet stem, not necessarily the one the
      author had in mind). No fix for positional arguments (mindcv's first parameter
      is `pretrained`), `*args`/`**kwargs`, or a keyword the constructor does not
      name (`weights=`). `from mindspore.nn import ResNet50` is rewritten the same way
      when every use of the name is such a call (the name leaves the import).
    - a dotted name with exactly one same-but-for-case/underscores name in its
      module is renamed to it (`nn.Conv2D` -> `nn.Conv2d`); with two (`ops.Relu`:
      `ReLU` and `relu`) the message names both and nothing is changed. Imports are
      not renamed (the name they bind is the one the rest of the script uses), a
      module is a candidate only where the name is used as a module (`ms.NN.Dense`),
      and names msfix's own tables map (`ops.CrossEntropy`, PyTorch's loss: use
      `ops.cross_entropy`; `ds.DataLoader`) get that advice, not a rename.
    - a name that no release has in its module but the target has in a module of the
      same name elsewhere (`RandomCrop` looked for in `transforms.c_transforms`, which
      1.7 has in `vision.c_transforms`) is pointed at that module, imported before the
      first use when the script does not bind it yet; the message names it.

    Otherwise the message names the MindSpore equivalent of a PyTorch name, close
    names in the same module, or says that mindcv has no such model.
    """
    invalid = [
        Example("import mindspore.nn as nn\nnet = nn.ResNet50(num_classes=10)\n", expect=(2,)),
        Example("import mindspore.nn as nn\nconv = nn.Conv2D(3, 8, 3)\n", expect=(2,)),
        Example("import mindspore.nn as nn\nnet = nn.MobileNetV2(num_classes=10)\n", expect=(2,)),
        Example("from mindspore import nn as N\nclass Net(N.Module):\n    pass\n", expect=(2,)),
        Example("import mindspore as ms\nlayer = ms.nn.Dens(3, 4)\n", expect=(2,)),
        Example("from mindspore.nn import Sequential\n", expect=(1,)),
        Example("import mindspore.vision\n", expect=(1,)),
    ]
    valid = [
        Example("import mindspore.nn as mnn\nlayer = mnn.Dense(3, 4)\nlin = mnn.Linear(3, 4)\n"),
        Example("import mindspore.nn as nn\nclass ResNet50(nn.Cell):\n    pass\nnet = ResNet50()\n"),
        Example("from mindspore.nn import *\nnet = ResNet50()\n"),
        Example("from mindcv.models import resnet50\nnet = resnet50(num_classes=10)\n"),
        Example("import mindspore as ms\nx = ms.Tensor([1]).asnumpy()\n"),
        Example("try:\n    from mindspore.nn import FlashAttention\nexcept ImportError:\n    FlashAttention = None\n"),
    ]

    def check(self, ctx):
        api = ctx.api
        version = api.version
        seen = set()
        span = f"{api.versions[0]} to {api.versions[-1]}"
        calls = {id(site.node.func): site for site in ctx.model.calls}
        for qualname, node, top, group in api.targets():
            missing = api.first_missing(qualname)
            if missing is None or api.versions_of(missing) or (missing, group) in seen:
                continue
            if api.guarded(node, top):
                continue  # try/except ImportError or a version/hasattr test: written for several releases
            seen.add((missing, group))
            parent, name = missing.rsplit(".", 1)
            near = [] if curated(missing) or api.kind(parent) != "module" else [
                # a module only where the name is used as one (`ms.NN.Dense`), not `ds.DataLoader`
                n for n in near_misses(api, missing)
                if qualname != missing or api.kind(f"{parent}.{n}") != "module"]
            zoo = zoo_candidates(missing, qualname)
            model = qualname.rsplit(".", 1)[1]
            extra = hint(api, missing, near, zoo, model)
            fix = None
            sibling = None if near or zoo or curated(missing) else api.sibling_spelling(missing)
            if sibling is not None:
                # the same name in a module of the same name elsewhere (RandomCrop looked for
                # in transforms.c_transforms lives in vision.c_transforms)
                extra = (f"MindSpore {version} has it as `{sibling.qualname}`"
                         + (f" ({sibling.note})" if sibling.note else ""))
                fix = self.sibling_fix(ctx, node, qualname, missing, sibling.qualname, top)
            if len(near) == 1:
                fix = self.rename_fix(ctx, node, qualname, missing, near[0], top)
            elif zoo and len(zoo) == 1 and not near:
                site = calls.get(id(node))
                if site is not None:
                    fix, why = self.zoo_fix(ctx, site, zoo[0])
                elif isinstance(node, cst.Name):
                    fix, why = self.zoo_import_fix(ctx, node, zoo[0], calls)
                else:
                    why = ""
                if fix is None and why:
                    extra += f" (no automatic rewrite: {why})"
            ctx.report(node, f"`{parent}` has no attribute `{name}` in MindSpore {version} "
                             f"nor in any indexed release ({span})"
                             + (f": {extra}" if extra else ""), fix=fix, top=top)

    @staticmethod
    def rename_fix(ctx, node, qualname: str, missing: str, new: str, top: int):
        """Rename the missing part of a dotted use (`nn.Conv2D` -> `nn.Conv2d`). Imports
        are not renamed: the name they bind is what the rest of the script uses."""
        target = missing_part(node, qualname, missing)
        if target is None:
            return None
        return Fix.unsafe(f"Rename to `{new}` (same name but for case/underscores)",
                          ctx.replace(target.attr, new, top))

    @staticmethod
    def sibling_fix(ctx, node, qualname: str, missing: str, new: str, top: int):
        """Point a dotted use (`c_transforms.RandomCrop`) at the module that has the
        name, imported (before the first use) if the script does not bind it yet."""
        target = missing_part(node, qualname, missing)
        if target is None:
            return None
        root = target
        while isinstance(root, cst.Attribute):
            root = root.value
        read = ctx.model.read_of(root) if isinstance(root, cst.Name) else None
        module, leaf = new.rsplit(".", 1)
        alias, stmt = ctx.ensure_module(module, module.rsplit(".", 1)[1], before=read.order if read else None)
        edits = [ctx.replace(target, f"{alias}.{leaf}", top)]
        imp = ctx.imports_edit([stmt])
        if imp is not None:
            edits.append(imp)
        return Fix.unsafe(f"Use `{new}`", *edits)

    @staticmethod
    def zoo_fix(ctx, site, model: str):
        """`nn.ResNet50(num_classes=10)` -> `resnet50(num_classes=10)` with
        `from mindcv.models import resnet50` (pretrained off). (fix, why not)."""
        sig = ctx.api.mindcv_registry().get(model)
        if sig is None:
            return None, ""
        args, why = mindcv_args(site.node, sig)
        if args is None:
            return None, why
        name, imports = mindcv_name(ctx, model, site)
        edits = [ctx.replace(site.node, site.node.with_changes(func=cst.Name(name), args=args), site.top)]
        if imports is not None:
            edits.append(imports)
        return Fix.unsafe(f"Use mindcv's `{model}`" + (f" (imported as `{name}`)" if name != model else ""),
                          *edits), ""

    @staticmethod
    def zoo_import_fix(ctx, node, model: str, calls):
        """`from mindspore.nn import ResNet50` and calls `ResNet50(num_classes=10)`: the name
        leaves the import, each call becomes `resnet50(num_classes=10)` and
        `from mindcv.models import resnet50` is added. Only when every use of the imported
        name is such a call. (fix, why not)."""
        sig = ctx.api.mindcv_registry().get(model)
        found = [(rec, n, asname, alias) for rec in ctx.model.imports for n, asname, alias in rec.names
                 if alias.name is node]
        if sig is None or len(found) != 1:
            return None, ""
        rec, imported, asname, alias = found[0]
        stmt = rec.statement
        if rec.scope is not ctx.model.module_scope or not isinstance(rec.node, cst.ImportFrom) \
                or not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            return None, ""
        bound = asname or imported
        qual = f"{rec.module}.{imported}"
        uses = [r for r in ctx.model.reads if r.name == bound
                and getattr(ctx.model.lookup(bound, r.lex, r.order), "qualname", None) == qual]
        sites = [calls.get(id(r.node)) for r in uses]
        if not sites:
            return None, ""
        if any(s is None for s in sites):
            return None, f"`{bound}` is used other than as a call"
        # the imported name itself is free once its import and these calls are rewritten
        name, imports = mindcv_name(ctx, model, sites[0], freed=(bound, len(sites) + 1))
        edits = []
        for site in sites:
            args, why = mindcv_args(site.node, sig)
            if args is None:
                return None, why
            edits.append(ctx.replace(site.node, site.node.with_changes(func=cst.Name(name), args=args), site.top))
        names = [a for a in rec.node.names if a is not alias]
        if names:
            names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            edits.append(ctx.replace(rec.node, rec.node.with_changes(names=names), rec.top))
        else:
            start, end = ctx.statement_lines(stmt, rec.top)
            edits.append(Edit(start, end, ""))
        if imports is not None:
            edits.append(imports)
        return Fix.unsafe(f"Use mindcv's `{model}`" + (f" (imported as `{name}`)" if name != model else ""),
                          *edits), ""


def mindcv_args(call, sig):
    """The call's arguments for the mindcv constructor `sig`, or (None, why not)."""
    model = sig.name
    args = []
    given = set()
    for a in call.args:
        if a.star:
            return None, "the call unpacks its arguments"
        if a.keyword is None:
            return None, (f"positional arguments (the first parameter of `{model}` is `{sig.params[0][0]}`)"
                          if sig.params else "positional arguments")
        kw = a.keyword.value
        if kw == "class_num":
            kw = "num_classes"
            a = a.with_changes(keyword=cst.Name("num_classes"))
        if not sig.has(kw):
            return None, f"`{model}` has no parameter `{kw}`"
        if kw in given:
            return None, f"`{kw}` is given twice"
        given.add(kw)
        args.append(a)
    if sig.has("pretrained") and "pretrained" not in given and sig.default("pretrained") != "False":
        args.append(cst.Arg(keyword=cst.Name("pretrained"), value=cst.Name("False"),
                            equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                  whitespace_after=cst.SimpleWhitespace(""))))
    return args, ""


def mindcv_name(ctx, model: str, site, freed=("", 0)):
    """The name to call mindcv's `model` by at `site`, and the import edit to add (None
    when the script imports it already, or an earlier round did)."""
    have = ctx.module_alias(f"mindcv.models.{model}")
    if have is not None and getattr(ctx.model.lookup(have, site.scope, site.order), "qualname", None) \
            == f"mindcv.models.{model}":
        return have, None
    name = free_name(ctx, model, freed)
    stmt = f"from mindcv.models import {model}" + (f" as {name}" if name != model else "")
    return name, ctx.imports_edit([stmt])


class _Names(cst.CSTVisitor):
    """Every bare name of the script: read, bound, declared global (attribute names and
    keyword names are not names)."""

    def __init__(self) -> None:
        self.names = collections.Counter()

    def visit_Name(self, node: cst.Name) -> None:
        self.names[node.value] += 1

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        if node.asname is not None:
            node.asname.visit(self)
        else:
            n = node.name
            while isinstance(n, cst.Attribute):
                n = n.value
            n.visit(self)
        return False


def _script_names(m) -> collections.Counter:
    v = _Names()
    m.module.visit(v)
    return v.names


def free_name(ctx, model: str, freed=("", 0)) -> str:
    """`model` itself when the script uses that name nowhere (binding it then changes
    nothing else, not even an undefined-name report), else `mindcv_<model>` (numbered if
    that is taken too). `freed`: a name and how many of its occurrences the fix rewrites
    away (free when those are all)."""
    m = ctx.model
    taken = m.cached("ms101:names", lambda: _script_names(m))
    if not m.has_star_import and (taken[model] == 0 or (model == freed[0] and taken[model] == freed[1])):
        return model
    name, n = f"mindcv_{model}", 1
    while name in taken:
        n += 1
        name = f"mindcv_{model}_{n}"
    return name
