"""The shape of rules/: one subpackage per family, one module per rule, and no rule
module importing another (shared code lives in the family's `_helpers`, in
msfix/fixes/, or in the analysis)."""

import ast
from pathlib import Path

from msfix.rule import all_rules

RULES = Path(__file__).resolve().parent.parent / "rules"
FAMILIES = {"0": "meta", "1": "api", "2": "data", "3": "network", "4": "training", "5": "checkpoint",
            "6": "hyperparams", "8": "graph"}


def _rule_modules():
    return sorted(p for p in RULES.glob("*/ms[0-9]*.py"))


def test_every_rule_sits_in_its_family_folder_and_nowhere_else():
    assert not list(RULES.glob("ms*.py"))  # nothing left at the top
    for p in _rule_modules():
        assert p.parent.name == FAMILIES[p.name[2]], p
    codes = {p.name[:5].upper() for p in _rule_modules()}
    assert codes == {r.code for r in all_rules() if not getattr(r, "plugin", None)}
    for r in all_rules():
        fam = FAMILIES[r.code[2]]
        assert r.__module__.startswith(f"msfix.rules.{fam}.{r.code.lower()}_"), r.__module__


def test_no_rule_module_imports_another_rule_module():
    bad = []
    for p in sorted(RULES.rglob("*.py")):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
                names += [f"{names[0]}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for n in names:
                last = [part for part in n.replace(".", " ").split()]
                if any(part.startswith("ms") and part[2:5].isdigit() for part in last):
                    bad.append(f"{p.relative_to(RULES)}: imports {n}")
    assert bad == []
