"""Every rule's own VALID/INVALID examples become tests (as in Fixit)."""

import pytest

from msfix.engine import fix_text, lint_text
from msfix.rule import all_rules

CASES = []
for rule in all_rules():
    for i, ex in enumerate(rule.invalid):
        CASES.append(pytest.param(rule, ex, True, id=f"{rule.code}-invalid-{i}"))
    for i, ex in enumerate(rule.valid):
        CASES.append(pytest.param(rule, ex, False, id=f"{rule.code}-valid-{i}"))


def test_every_rule_has_examples():
    for rule in all_rules():
        assert rule.invalid, f"{rule.code} has no INVALID example"
        assert rule.valid, f"{rule.code} has no VALID example"


@pytest.mark.parametrize("rule,example,invalid", CASES)
def test_example(rule, example, invalid):
    out = lint_text(example.code, [rule])
    assert out.internal_errors == []
    lines = tuple(d.span.line for d in out.diagnostics if d.code == rule.code)
    if not invalid:
        assert lines == (), [d.message for d in out.diagnostics]
        return
    assert lines == example.expect, [f"{d.span.line}: {d.message}" for d in out.diagnostics]
    if example.fixed is not None:
        fixed, _, applied, err = fix_text(example.code, [rule], unsafe=True)
        assert err is None
        assert fixed == example.fixed
        assert applied >= 1
