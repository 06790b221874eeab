#!/usr/bin/env python3
"""Scaffold a new rule: the rule module, its fixture folder and its doc page.

    python tools/new_rule.py MS217 some-name --family data [--severity warning]

writes
    rules/data/ms217_some_name.py  the rule (in its family's folder): code, name, severity, docs, examples, check()
    fixtures/MS217/bad.py          a script the rule must report (edit it)
    fixtures/MS217/good.py         a valid variant it must not report (edit it)
then regenerates docs/rules/MS217.md and the README table (tools/gen_docs.py). After
editing the rule and the two fixtures, write their snapshots with
    MSFIX_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_fixtures.py -k MS217
and read them. CONTRIBUTING.md says the rest.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = {  # family -> the code range it uses
    "meta": "MS0", "api": "MS1", "data": "MS2", "network": "MS3", "training": "MS4",
    "checkpoint": "MS5", "hyperparams": "MS6", "graph": "MS8",
}

TEMPLATE = '''"""{code}: {summary}"""

from msfix.diagnostics import Severity
from msfix.rule import Example, Rule


class {cls}(Rule):
    code = "{code}"
    name = "{name}"
    severity = Severity.{severity}
    summary = "{summary}"
    versions = "MindSpore 2.x"
    doc = """
    ## What it does
    TODO: what the rule flags, in one paragraph.

    ## Why is this bad?
    TODO: what MindSpore does with it (checked on the 2.10 wheel), and what the user sees.

    ## Example
    ```python
    TODO
    ```

    Use instead:
    ```python
    TODO
    ```

    ## Fix safety
    No automatic fix yet.
    """
    invalid = [
        Example("import mindspore.dataset as ds\\nd = ds.MnistDataset('m')\\n", expect=(2,)),
    ]
    valid = [
        Example("import mindspore.dataset as ds\\n"),
    ]

    def check(self, ctx):
        # Query the script model (ctx.model); report with ctx.report(node, message, fix=..., top=...).
        for site in ctx.model.calls_to("mindspore.dataset.MnistDataset"):
            ctx.report(site.node, "TODO: the message the user reads", top=site.top)
'''

BAD = '''# A script {code} must report: replace with the real defect, as users write it.
import mindspore.dataset as ds

data = ds.MnistDataset("./MNIST/train")
'''

GOOD = '''# A valid variant of the same pattern {code} must not report.
import mindspore.dataset as ds

print(ds)
'''


def scaffold(code: str, name: str, family: str, severity: str, root: Path = ROOT) -> list:
    code = code.upper()
    if not re.fullmatch(r"MS\d{3}", code):
        raise SystemExit(f"new_rule: the code must look like MS217, not {code!r}")
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", name):
        raise SystemExit(f"new_rule: the name must be kebab-case (some-name), not {name!r}")
    if family not in FAMILIES:
        raise SystemExit(f"new_rule: unknown family {family!r}; one of {', '.join(FAMILIES)}")
    if not code.startswith(FAMILIES[family]):
        raise SystemExit(f"new_rule: {family} rules use codes {FAMILIES[family]}xx")
    rules = root / "rules"
    if list(rules.rglob(f"{code.lower()}_*.py")) or (root / "fixtures" / code).exists():
        raise SystemExit(f"new_rule: {code} exists already")
    module = rules / family / f"{code.lower()}_{name.replace('-', '_')}.py"
    cls = "".join(p.capitalize() for p in name.split("-"))
    summary = f"TODO: one line on what {name.replace('-', ' ')} catches."
    module.write_text(TEMPLATE.format(code=code, name=name, cls=cls, summary=summary,
                                      severity=severity.upper()), encoding="utf-8")
    fixtures = root / "fixtures" / code
    fixtures.mkdir(parents=True)
    (fixtures / "bad.py").write_text(BAD.format(code=code), encoding="utf-8")
    (fixtures / "good.py").write_text(GOOD.format(code=code), encoding="utf-8")
    return [module, fixtures / "bad.py", fixtures / "good.py"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("code")
    ap.add_argument("name")
    ap.add_argument("--family", required=True, choices=sorted(FAMILIES))
    ap.add_argument("--severity", default="error", choices=["error", "warning"])
    args = ap.parse_args(argv)
    written = scaffold(args.code, args.name, args.family, args.severity)
    for p in written:
        print(f"wrote {p.relative_to(ROOT)}")
    subprocess.run([sys.executable, str(ROOT / "tools" / "gen_docs.py")], check=True, cwd=ROOT)
    print(f"wrote docs/rules/{args.code.upper()}.md; next: edit the rule and fixtures, then "
          f"MSFIX_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_fixtures.py -k {args.code.upper()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
