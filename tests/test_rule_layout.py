"""The shape of rules/: one subpackage per family, one module per rule, and no rule
module importing another (shared code lives in the family's `_helpers`, in
msfix/fixes/, or in the analysis)."""

import ast
import sys
from pathlib import Path

import pytest

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


# What a module under rules/ may import: the rule base, the diagnostics, the fix helpers,
# the views of the script model (msfix.context: types and constants), its own family's
# helpers, libcst and the standard library. Never msfix.analysis / msfix.knowledge
# directly (rules reach them through ctx.data / network / training / api / values).
ALLOWED_MSFIX = ("msfix.rule", "msfix.diagnostics", "msfix.fixes", "msfix.context")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                yield "." * node.level + (node.module or "")
            else:
                yield node.module or ""
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name


def _allowed(module: str, family: str) -> bool:
    if module == "__future__" or module.split(".")[0] in sys.stdlib_module_names or module.split(".")[0] == "libcst":
        return True
    if any(module == a or module.startswith(a + ".") for a in ALLOWED_MSFIX):
        return True
    helper = f"msfix.rules.{family}._"
    return module.startswith(helper) or module.startswith("._")


@pytest.mark.parametrize("path", sorted(RULES.rglob("*.py")), ids=lambda p: str(p.relative_to(RULES)))
def test_rules_reach_the_analysis_only_through_the_context(path):
    family = path.parent.name
    bad = [m for m in _imports(path) if not _allowed(m, family)]
    assert bad == [], f"{path.relative_to(RULES)} imports {bad}: use ctx.data / ctx.network / ctx.training / " \
                      f"ctx.api / ctx.values (msfix/context.py) instead"


def test_the_context_check_catches_a_direct_import(tmp_path):
    p = tmp_path / "ms999_x.py"
    p.write_text("from msfix.analysis import data\nfrom msfix.rules.api._api import Moves\nimport json\n")
    assert [m for m in _imports(p) if not _allowed(m, "data")] == ["msfix.analysis", "msfix.rules.api._api"]
