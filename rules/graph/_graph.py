"""Helpers shared by the graph-mode rules (MS8xx); not a rule module."""


def compiled_label(ctx, net, cf) -> str:
    """`Net.construct` (or `helper`, with the call chain) and why MindSpore compiles it."""
    name = f"{cf.cell.name}.{cf.node.name.value}" if cf.cell is not None else cf.node.name.value
    if cf.via:
        name += f" (called as {cf.via})"
    why = cf.why
    gm = net.graph_mode_site()
    if why == "the script sets GRAPH_MODE" and gm is not None:
        why = f"the script sets GRAPH_MODE (line {ctx.span(gm.node, gm.top).line})"
    return f"`{name}`, which MindSpore compiles because {why}"
