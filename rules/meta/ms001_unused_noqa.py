"""MS001: a `# noqa: MS...` code that suppresses nothing."""

from typing import List

from msfix.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity, Span
from msfix.rule import Example, Rule, all_rules


class UnusedNoqa(Rule):
    code = "MS001"
    name = "unused-noqa"
    severity = Severity.WARNING
    summary = "A `# noqa: MS...` code that suppresses no diagnostic on its line, or names no rule."
    fix_applicability = Applicability.SAFE
    versions = "all"
    after_noqa = True  # runs after the other rules, when the engine knows what each noqa suppressed
    doc = """
    ## What it does
    Flags msfix codes in `# noqa: ...` comments that suppressed nothing in this run:
    the rule is enabled but reports nothing on that line, or the code names no msfix
    rule at all (a typo, or a rule that was renumbered). Codes of other tools
    (`E402`, `F401`, ...) and bare `# noqa` are left alone, and so are codes of rules
    that were not selected in this run (msfix cannot tell whether they are needed).

    ## Why is this bad?
    A stale `noqa` hides the next real defect on that line: once the code is fixed the
    comment stays, and a later, different mistake of the same kind goes unreported.
    A misspelt code suppresses nothing while looking as if it did.

    ## Example
    ```python
    train = ds.MnistDataset(path, num_parallel_workers=2)  # noqa: MS202
    ```

    Use instead:
    ```python
    train = ds.MnistDataset(path, num_parallel_workers=2)
    ```

    ## Fix safety
    Safe: the fix removes only the unused codes (the whole `# noqa: ...` directive when
    none is left) and keeps other codes and any other comment text on the line.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\n"
            "d = ds.MnistDataset('m')  # noqa: MS9999\n",
            expect=(2,),
            fixed="import mindspore.dataset as ds\n"
                  "d = ds.MnistDataset('m')\n",
        ),
        Example(
            "import mindspore\n"
            "import os  # noqa: E402, ms9999 keep this note\n",
            expect=(2,),
            fixed="import mindspore\n"
                  "import os  # noqa: E402 keep this note\n",
        ),
    ]
    valid = [
        Example("import mindspore\nimport os  # noqa: E402\nx = 1  # noqa\n"),
        Example("import mindspore\ns = '# noqa: MS999'\n"),
        # MS202 is not selected here: msfix cannot tell whether the code is needed
        Example("import mindspore.dataset as ds\nd = ds.MnistDataset('m', num_parallel_workers=2)  # noqa: MS202\n"),
        Example("import mindspore\nx = 1  # noqa: MS001\n"),
    ]

    def check(self, ctx):
        text = ctx.model.text
        if "noqa" not in text.lower():
            return
        used = getattr(ctx, "noqa_used", {})
        enabled = getattr(ctx, "enabled_codes", frozenset())
        known = {r.code for r in all_rules()}
        for line, d in sorted(getattr(ctx, "noqa_directives", {}).items()):
            if d.codes is None:
                continue
            col, comment = d.column, d.comment
            codes = list(d.codes)
            unknown: List[str] = []
            unused: List[str] = []
            for c in codes:
                u = c.upper()
                if not u.startswith("MS") or u == self.code or u in used.get(line, ()):
                    continue
                if u not in known:
                    unknown.append(c)
                elif u in enabled:
                    unused.append(c)
            if not unknown and not unused:
                continue
            drop = set(unknown) | set(unused)
            parts = []
            if unused:
                parts.append(f"{', '.join(f'`{c}`' for c in unused)} reported nothing on this line")
            if unknown:
                parts.append(f"{', '.join(f'`{c}`' for c in unknown)} "
                             f"{'names' if len(unknown) == 1 else 'name'} no msfix rule")
            keep = [c for c in codes if c not in drop]
            edit = self._edit(ctx, line, col, comment, d, keep)
            span = Span(line, col + d.start + 1, line, col + d.end + 1)
            what = "remove the unused code" + ("s" if len(drop) > 1 else "") if keep else "remove the `noqa` directive"
            ctx.diagnostics.append(Diagnostic(
                code=self.code, name=self.name, severity=self.severity,
                message=f"unused `noqa`: {'; '.join(parts)}; {what}",
                span=span, fix=Fix.safe(what[0].upper() + what[1:], edit), path=ctx.path))

    @staticmethod
    def _edit(ctx, line: int, col: int, comment: str, d, keep: List[str]) -> Edit:
        loc = ctx.locator
        comment_start = loc.offset(line, col)
        comment_end = comment_start + len(comment)
        if keep:
            return Edit(comment_start + d.codes_start, comment_start + d.codes_end, ", ".join(keep))
        before = comment[:d.start].rstrip()
        rest = comment[d.end:].strip()
        if before:
            return Edit(comment_start, comment_end, before + (f" {rest}" if rest else ""))
        if rest:
            return Edit(comment_start, comment_end, f"# {rest}")
        # the whole comment goes, with the whitespace before it
        line_text = loc.line_text(line)
        code_end = len(line_text[:col].rstrip())
        return Edit(loc.offset(line, code_end), comment_end, "")
