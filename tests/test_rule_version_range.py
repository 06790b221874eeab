"""A rule's version range is data on the rule (`applies_from` / `applies_until`), compared
as versions: the engine runs the rule only for target versions inside it."""

import pytest

from msfix.diagnostics import Severity
from msfix.engine import lint_text
from msfix.rule import Rule, rule_by_code

SRC = "import mindspore\nx = 1\n"


def _rule(lo=None, hi=None):
    class Ranged(Rule):
        code = "MSX900"
        name = "ranged"
        severity = Severity.WARNING
        applies_from = lo
        applies_until = hi

        def check(self, ctx):
            ctx.report(ctx.model.module.body[0], "here")
    return Ranged


@pytest.mark.parametrize("lo,hi,target,runs", [
    ("2.0", None, "1.10.1", False),
    ("2.0", None, "2.0.0", True),
    ("2.0", None, "2.10.0", True),   # as strings "2.10" < "2.9"; as versions it is later
    ("2.9", None, "2.10.0", True),
    (None, "2.10", "2.9.0", True),
    (None, "2.10", "2.10.0", False),
    ("1.8", "2.0", "1.10.1", True),
    ("1.8", "2.0", "2.3.0", False),
    (None, None, "1.0.0", True),
])
def test_the_engine_runs_a_rule_only_inside_its_version_range(lo, hi, target, runs):
    out = lint_text(SRC, [_rule(lo, hi)], target_version=target)
    assert [d.code for d in out.diagnostics] == (["MSX900"] if runs else [])
    assert _rule(lo, hi).applies_to(target) is runs


def test_the_range_is_in_the_rule_docs():
    assert "Runs for target versions 2.0 and later." in _rule("2.0").documentation()
    assert "Runs for" not in _rule().documentation()


def test_shipped_rules_with_a_range_state_it_as_versions():
    from msfix.knowledge.api import version_key
    for code in ("MS408",):
        r = rule_by_code(code)
        assert r.applies_from is not None
        version_key(r.applies_from)  # a version, not prose
