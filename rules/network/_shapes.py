"""Helpers shared by the shape rules (MS309, MS310); not a rule module."""


def origin_text(ctx, rec) -> str:
    """Where the size a shape record names comes from, for the message:
    ", from `args.x` (argparse default 3, line 8) given to `Net`", or ""."""
    if rec.origin:
        return rec.origin
    if rec.origin_at is None:
        return ""
    expr, scope, order, given_to = rec.origin_at
    o = ctx.values.origin(expr, scope, order, ctx)
    if not o:
        return ""
    return f", from {o}" + (f" {given_to}" if given_to else "")
