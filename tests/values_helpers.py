"""A value read from a one-line model: shared by the value tests."""

import libcst as cst

from msfix.analysis.builder import build_model


def _model(src: str, expr: str):
    src = src.rstrip("\n") + f"\nRESULT = {expr}\n"
    m = build_model(cst.parse_module(src), src)
    b = m.module_scope.bindings["RESULT"][-1]
    return m, b


def value(src: str, expr: str):
    m, b = _model(src, expr)
    return m.literal(b.value, m.module_scope, b.order)
