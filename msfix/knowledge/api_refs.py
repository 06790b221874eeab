"""The MindSpore paths a script names and the first missing part of a path (the API
rules' view of the script's references); read by rules through `ctx.api`."""

from msfix.knowledge.api_queries import data


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


def tables():
    d = data("api_renames.json")
    return d["modules"], d["names"], d["hints"]
