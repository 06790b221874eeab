"""The conventional-value table behind MS106's fix for a missing required argument
(msfix/knowledge/data/conventional_args.json): every entry names a real required
parameter of the 2.10 signature in the shipped API index, its value is a Python
literal, and it says where MindSpore documents the value."""

import ast

import libcst as cst

from msfix.knowledge import conventional
from msfix.knowledge.api import load_index

TARGET = "2.10"


def test_table_is_not_empty():
    assert conventional.table(), "the table lost its entries"


def test_entries_name_required_parameters_of_the_target_signature():
    idx = load_index()
    version = idx.resolve_version(TARGET)
    assert version.startswith("2.10")
    for qualname, params in conventional.table().items():
        assert idx.kind(qualname, version) in ("class", "function"), qualname
        sig = idx.signature(qualname, version)
        assert sig is not None, f"{qualname}: no signature in {version}"
        by_name = {p.name: p for p in sig.params}
        for name, entry in params.items():
            assert name in by_name, f"{qualname} has no parameter {name!r} in {version}"
            p = by_name[name]
            assert not p.has_default, f"{qualname}.{name} has a default in {version}: no fix needed"
            assert p.kind in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY"), f"{qualname}.{name} cannot be passed by keyword"


def test_entries_have_a_literal_value_and_a_source():
    for qualname, params in conventional.table().items():
        for name, entry in params.items():
            assert set(entry) == {"value", "source"}, (qualname, name, entry)
            ast.literal_eval(entry["value"])  # a plain literal, inserted as `name=value`
            cst.parse_expression(entry["value"])
            src = entry["source"]
            assert "mindspore" in src.lower() and len(src) > 30, (qualname, name, src)


def test_lookup_misses_parameters_not_in_the_table():
    assert conventional.lookup("mindspore.nn.Momentum", "momentum")["value"] == "0.9"
    assert conventional.lookup("mindspore.nn.Momentum", "learning_rate") is None
    assert conventional.lookup("mindspore.nn.Dense", "out_channels") is None
