"""--output-format sarif: SARIF 2.1.0 (Static Analysis Results Interchange Format), as
GitHub code scanning and other dashboards read it. One run; the driver lists every
rule (id, name, short and full description, help URI to docs/rules/CODE.md, default
level); each result has its rule, level, message, region and, when msfix has one, its
fix as character-offset replacements."""

from __future__ import annotations

import json
import os
from pathlib import PurePath
from typing import Any, Dict
from urllib.parse import quote

from msfix import __version__
from msfix.diagnostics import Severity

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def project_url() -> str:
    """The project's repository URL, from the installed package's metadata
    (`[project.urls]` in pyproject.toml: Repository, else Homepage, else the first)."""
    from importlib.metadata import distributions

    entries = []
    # the first msfix distribution that has URLs (a stale msfix.egg-info left in a source
    # tree by a build can come first on sys.path)
    for dist in distributions(name="msfix"):
        entries = dist.metadata.get_all("Project-URL") or []
        if entries:
            break
    urls = {}
    for entry in entries:
        label, _, url = entry.partition(",")
        if url.strip():
            urls[label.strip().lower()] = url.strip().rstrip("/")
    for label in ("repository", "source", "homepage"):
        if label in urls:
            return urls[label]
    return next(iter(urls.values()), "")


INFORMATION_URI = project_url()
# where docs/rules/CODE.md is published; MSFIX_DOCS_URL overrides it (e.g. a fork)
DOCS_URL = os.environ.get("MSFIX_DOCS_URL") or (INFORMATION_URI + "/blob/main/docs/rules/" if INFORMATION_URI
                                                 else "docs/rules/")


def _uri(path: str) -> dict:
    p = PurePath(path)
    posix = p.as_posix()
    if p.is_absolute():
        return {"uri": "file://" + quote(posix)}
    return {"uri": quote(posix), "uriBaseId": "%SRCROOT%"}


def _level(sev) -> str:
    return "error" if sev is Severity.ERROR else "warning"


def _rule(r) -> dict:
    return {
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.documentation(), "markdown": r.documentation()},
        "help": {"text": r.summary, "markdown": r.documentation()},
        "helpUri": f"{DOCS_URL}{r.code}.md",
        "defaultConfiguration": {"level": _level(r.severity)},
        "properties": {
            "fix": None if r.fix_applicability is None else r.fix_applicability.value,
            "versions": r.versions,
        },
    }


def sarif_log(results) -> dict:
    from msfix.rule import all_rules

    rules = list(all_rules())
    index = {r.code: i for i, r in enumerate(rules)}
    out = []
    for res in results:
        for d in res.diagnostics:
            cell = getattr(d, "cell", None)
            item = {
                "ruleId": d.code,
                "level": _level(d.severity),
                "message": {"text": d.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": _uri(d.path),
                        "region": {
                            "startLine": d.span.line,
                            "startColumn": d.span.column,
                            "endLine": d.span.end_line,
                            "endColumn": d.span.end_column,
                        },
                    },
                }],
            }
            if d.code in index:
                item["ruleIndex"] = index[d.code]
            if cell is not None:
                # lines and columns count within the notebook's code cell
                item["properties"] = {"cell": cell}
            elif d.fix is not None:
                item["fixes"] = [{
                    "description": {"text": f"{d.fix.message} ({d.fix.applicability.value} fix)"},
                    "artifactChanges": [{
                        "artifactLocation": _uri(d.path),
                        "replacements": [{
                            "deletedRegion": {"charOffset": e.start, "charLength": e.end - e.start},
                            "insertedContent": {"text": e.text},
                        } for e in d.fix.edits],
                    }],
                }]
            out.append(item)
    invocation: Dict[str, Any] = {"executionSuccessful": not any(r.error for r in results)}
    errors = [r for r in results if r.error]
    if errors:
        invocation["toolExecutionNotifications"] = [{
            "level": "error",
            "message": {"text": r.error},
            "locations": [{"physicalLocation": {"artifactLocation": _uri(r.path)}}],
        } for r in errors]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "msfix",
                "version": __version__,
                "semanticVersion": __version__,
                **({"informationUri": INFORMATION_URI} if INFORMATION_URI else {}),
                "rules": [_rule(r) for r in rules],
            }},
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {"%SRCROOT%": {"uri": _srcroot()}},
            "invocations": [invocation],
            "results": out,
        }],
    }


def _srcroot() -> str:
    cwd = PurePath(os.getcwd()).as_posix()
    return "file://" + quote(cwd if cwd.endswith("/") else cwd + "/")


def report(results, out, **_) -> None:
    out.write(json.dumps(sarif_log(results), indent=2, ensure_ascii=False))
    out.write("\n")
