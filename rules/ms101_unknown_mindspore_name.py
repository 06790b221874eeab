"""MS101: a module, name or attribute under `mindspore` that no MindSpore release has."""


from msfix.diagnostics import Severity
from msfix.knowledge.api import load_index, load_torch_table
from msfix.knowledge.api_queries import data, guarded
from msfix.rule import Example, Rule


def api_targets(m):
    """(qualname, node, top, group) for every MindSpore path the script names: dotted
    uses, `import a.b.c` and `from a.b import c`. Paths of one import statement share a
    group, so a missing module is reported once per statement."""
    for ref in m.refs:
        yield ref.qualname, ref.node, ref.top, id(ref.node)
    for rec in m.imports:
        group = id(rec.node)
        if rec.module is not None and (rec.module == "mindspore" or rec.module.startswith("mindspore.")):
            yield rec.module, rec.node.module, rec.top, group
            if not rec.star:
                for name, _asname, alias in rec.names:
                    yield f"{rec.module}.{name}", alias.name, rec.top, group
        elif rec.module is None and not rec.star:
            for name, _asname, alias in rec.names:
                if name == "mindspore" or name.startswith("mindspore."):
                    yield name, alias.name, rec.top, id(alias)


def first_missing(idx, qualname: str, version: str):
    """The shortest prefix of `qualname` that does not exist in `version`, when its
    parent is a module the index knows; None if everything exists or is unknown."""
    parts = qualname.split(".")
    if parts[0] != "mindspore":
        return None
    for i in range(2, len(parts) + 1):
        parent = ".".join(parts[: i - 1])
        if idx.kind(parent, version) != "module":
            return None  # attributes of classes and values are not checked here
        prefix = ".".join(parts[:i])
        e = idx.exists(prefix, version)
        if e is None:
            return None
        if e is False:
            return prefix
    return None


def hint(idx, missing: str, version: str) -> str:
    own = data("api_renames.json").get("hints", {}).get(missing)
    if own:
        return own
    table = load_torch_table()
    parent, name = missing.rsplit(".", 1)
    zoo = table.get("model_zoo", {})
    if name in zoo.get("names", ()) and parent in zoo.get("modules", ()):
        return zoo["hint"].replace("<name>", name.lower())
    entry = table.get("missing", {}).get(missing)
    if entry is not None:
        torch = f" (`{entry['torch']}` is PyTorch)" if entry.get("torch") else ""
        note = f"; {entry['note']}" if entry.get("note") else ""
        return f"use `{entry['use']}`{torch}{note}"
    close = idx.suggest(missing, version)
    if close:
        return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
    return ""


class UnknownMindSporeName(Rule):
    code = "MS101"
    name = "unknown-mindspore-name"
    severity = Severity.ERROR
    summary = "A module, class or function under `mindspore` that does not exist in any release."
    versions = "every indexed release, 1.10 to 2.10"
    doc = """
    ## What it does
    Checks every MindSpore path the script names (`nn.ResNet50`, `from mindspore.nn
    import Linear`, `import mindspore.vision`) against msfix's index of the public API
    of every MindSpore release from 1.10 to 2.10, resolving aliases
    (`import mindspore.nn as mnn`, `from mindspore import nn as N`, `ms.nn.X`). A name
    the script defines itself (a local `class ResNet50`) is not a MindSpore name.
    Names that exist in some other release are left to MS103 (removed or not yet
    added).

    ## Why is this bad?
    The name was never part of MindSpore: copied from PyTorch (`nn.Module`,
    `nn.Sequential`), from a model zoo (`nn.ResNet50`: MindSpore has no model zoo in
    `mindspore.nn`), or invented by a code generator. The script fails with
    `AttributeError` or `ImportError` when it reaches the line.

    ## Example
    ```python
    import mindspore.nn as nn
    backbone = nn.ResNet50(num_classes=10)
    ```

    Use instead:
    ```python
    import mindcv
    backbone = mindcv.create_model("resnet50", num_classes=10)
    ```

    ## Fix safety
    No automatic fix: the message names the MindSpore equivalent of a PyTorch name,
    close names in the same module, or the model zoo to use.
    """
    invalid = [
        Example("import mindspore.nn as nn\nnet = nn.ResNet50(num_classes=10)\n", expect=(2,)),
        Example("from mindspore import nn as N\nclass Net(N.Module):\n    pass\n", expect=(2,)),
        Example("import mindspore as ms\nlayer = ms.nn.Dens(3, 4)\n", expect=(2,)),
        Example("from mindspore.nn import Sequential\n", expect=(1,)),
        Example("import mindspore.vision\n", expect=(1,)),
    ]
    valid = [
        Example("import mindspore.nn as mnn\nlayer = mnn.Dense(3, 4)\nlin = mnn.Linear(3, 4)\n"),
        Example("import mindspore.nn as nn\nclass ResNet50(nn.Cell):\n    pass\nnet = ResNet50()\n"),
        Example("from mindspore.nn import *\nnet = ResNet50()\n"),
        Example("import mindspore as ms\nx = ms.Tensor([1]).asnumpy()\n"),
        Example("try:\n    from mindspore.nn import FlashAttention\nexcept ImportError:\n    FlashAttention = None\n"),
    ]

    def check(self, ctx):
        idx = load_index()
        version = idx.resolve_version(ctx.target_version)
        seen = set()
        span = f"{idx.versions[0]} to {idx.versions[-1]}"
        for qualname, node, top, group in api_targets(ctx.model):
            missing = first_missing(idx, qualname, version)
            if missing is None or idx.versions_of(missing) or (missing, group) in seen:
                continue
            if guarded(ctx.model, node, top):
                continue  # try/except ImportError or a version/hasattr test: written for several releases
            seen.add((missing, group))
            parent, name = missing.rsplit(".", 1)
            extra = hint(idx, missing, version)
            ctx.report(node, f"`{parent}` has no attribute `{name}` in MindSpore {version} "
                             f"nor in any indexed release ({span})"
                             + (f": {extra}" if extra else ""), top=top)
