"""The `msfix` command line (click). Argument handling only; the work is elsewhere."""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import List, Optional, Sequence

import click

from msfix import __version__
from msfix.report import FORMATS

EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def _split(values: Sequence[str]) -> List[str]:
    out: List[str] = []
    for v in values or ():
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _error(msg: str) -> None:
    click.echo(f"msfix: error: {msg}", err=True)


def selection_options(f):
    f = click.option("--select", multiple=True, help="Rule codes or prefixes to enable (comma-separated).")(f)
    f = click.option("--extend-select", multiple=True, help="Codes or prefixes to enable in addition.")(f)
    f = click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable (comma-separated).")(f)
    f = click.option("--target-version", default=None, help="MindSpore version the script targets, e.g. 2.10.")(f)
    f = click.option("--config", "config_overrides", multiple=True, metavar="KEY=VALUE",
                     help="Override a configuration key, e.g. --config 'ignore=[\"MS205\"]'.")(f)
    f = click.option("--config-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Use this msfix.toml or pyproject.toml instead of the nearest one.")(f)
    f = click.option("--output-format", type=click.Choice(list(FORMATS)), default=None,
                     help="How to print diagnostics (text, concise, json, json-lines, sarif, github, junit).")(f)
    f = click.option("--statistics", is_flag=True, help="Print counts per rule instead of each diagnostic.")(f)
    f = click.option("--quiet", "-q", is_flag=True, help="Print diagnostics only, no source snippets or summary.")(f)
    f = click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")(f)
    return f


def _settings(paths, select, extend_select, ignore, target_version, config_overrides, config_file):
    from msfix.config import ConfigError, load_settings

    start = Path(paths[0]) if paths else Path.cwd()
    try:
        settings = load_settings(config_file, start if start.exists() else Path.cwd(), config_overrides)
    except ConfigError as exc:
        _error(str(exc))
        sys.exit(EXIT_ERROR)
    if select:
        settings.select = _split(select)
    if extend_select:
        settings.extend_select = [*settings.extend_select, *_split(extend_select)]
    if ignore:
        settings.ignore = [*settings.ignore, *_split(ignore)]
    if target_version:
        settings.target_version = target_version
    settings.target_version = _resolve_target(settings.target_version)
    if settings.output_format is not None and settings.output_format not in FORMATS:
        _error(f"output-format {settings.output_format!r}: expected one of {', '.join(FORMATS)}")
        sys.exit(EXIT_ERROR)
    from msfix.rule import all_rules

    known = {r.code for r in all_rules()}
    for code in [*settings.select, *settings.extend_select, *settings.ignore]:
        c = code.upper()
        if c != "ALL" and not any(k.startswith(c) for k in known):
            _error(f"unknown rule code or prefix `{code}` (see `msfix rules`)")
            sys.exit(EXIT_ERROR)
    return settings


def _resolve_target(spec: Optional[str]) -> Optional[str]:
    try:
        from msfix.knowledge.api import load_index
    except ImportError:  # the API index is not shipped in this build
        return spec
    try:
        return load_index().resolve_version(spec)
    except Exception as exc:
        _error(f"--target-version {spec!r}: {exc}")
        sys.exit(EXIT_ERROR)


def _discover(paths, settings):
    from msfix.discover import discover

    found = discover(paths, settings)
    for where, why in found.errors:
        _error(f"{where}: {why}")
    return found


def _warn_empty(paths) -> None:
    """A file named on the command line that is empty gets a one-line notice (it is
    valid Python, so not an error: directories are full of empty __init__.py files)."""
    for raw in paths:
        p = Path(raw)
        try:
            if p.is_file() and p.stat().st_size == 0:
                click.echo(f"msfix: warning: {raw}: empty file, nothing to check", err=True)
        except OSError:
            pass


def _report_errors(results) -> int:
    bad = 0
    for r in results:
        if r.error:
            _error(f"{r.path}: {r.error}")
            bad += 1
        for note in r.notes:
            _error(f"{r.path}: {note}")
            bad += 1
    return bad


def _want_progress(n_files: int) -> bool:
    from msfix.runner import show_progress

    return show_progress(n_files, sys.stderr)


def _add_noqa(results) -> int:
    """Write the noqa directives; returns the number of files that failed."""
    from msfix.add_noqa import add_noqa
    from msfix.source import atomic_write

    bad = added = files = 0
    for r in results:
        wanted = {}
        for d in r.diagnostics:
            if d.code != "MS001":  # an unused noqa is removed, never suppressed
                wanted.setdefault((getattr(d, "cell", None), d.span.line), set()).add(d.code)
        if not wanted or r.source is None:
            continue
        if hasattr(r, "apply_to_cells"):  # a notebook: edit each cell's code
            new, n, skipped = r.apply_to_cells(lambda text, w: add_noqa(text, w), wanted)
        else:
            new, n, skipped = add_noqa(r.source.text, {line: c for (_, line), c in wanted.items()})
        for line in skipped:
            _error(f"{r.path}:{line}: cannot add a noqa comment (the line ends inside a string or "
                   "continues with a backslash)")
        if not n:
            continue
        try:
            atomic_write(Path(r.path), r.source.encode(new))
        except OSError as exc:
            _error(f"{r.path}: cannot write: {exc.strerror or exc}")
            bad += 1
            continue
        added += n
        files += 1
    click.echo(f"Added {added} noqa directive{'s' if added != 1 else ''} to {files} file{'s' if files != 1 else ''}.",
               err=True)
    return bad


def _emit(results, output_format, statistics, quiet, fix_mode=False, unsafe=False, written=True):
    from msfix.report import get_reporter
    from msfix.report.text import report_statistics

    out = sys.stdout
    if statistics:
        report_statistics(results, out)
        return
    get_reporter(output_format or "text")(results, out, quiet=quiet, fix_mode=fix_mode, unsafe=unsafe,
                                          written=written)


class _Group(click.Group):
    """Loads the `smoke` command only when it is asked for."""

    def list_commands(self, ctx):
        return sorted([*super().list_commands(ctx), "smoke"])

    def get_command(self, ctx, name):
        if name == "smoke":
            from msfix.smoke.command import smoke

            return smoke
        return super().get_command(ctx, name)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="msfix")
def main() -> None:
    """msfix: a linter and autofixer for MindSpore training scripts."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found (errors reading files still exit 2).")
@click.option("--add-noqa", is_flag=True,
              help="Add `# noqa: CODE` to every reported line (merging with existing noqa comments), then exit.")
@selection_options
def check(paths, exit_zero, add_noqa, select, extend_select, ignore, target_version, config_overrides, config_file,
          output_format, statistics, quiet, no_cache):
    """Report defects in PATHS (files or directories). Exit 1 if anything is found."""
    settings = _settings(paths, select, extend_select, ignore, target_version, config_overrides, config_file)
    found = _discover(paths, settings)
    from msfix.runner import run_files

    results = run_files(found.files, settings, use_cache=not (no_cache or add_noqa),
                        progress=_want_progress(len(found.files)))
    bad = _report_errors(results) + len(found.errors)
    _warn_empty(paths)
    if add_noqa:
        bad += _add_noqa(results)
        sys.exit(EXIT_ERROR if bad else EXIT_OK)
    _emit(results, output_format or settings.output_format, statistics, quiet)
    if bad:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FOUND if any(r.diagnostics for r in results) and not exit_zero else EXIT_OK)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--write", "-w", is_flag=True, help="Rewrite the files in place.")
@click.option("--diff", is_flag=True, help="Show the changes as a unified diff (the default without --write).")
@click.option("--unsafe-fixes", is_flag=True, default=None, help="Also apply fixes that guess intent.")
@click.option("--smoke", "smoke_run", is_flag=True,
              help="Run each fixed script briefly (msfix smoke) and write it only if it runs.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems remain (errors still exit 2).")
@selection_options
def fix(paths, write, diff, unsafe_fixes, smoke_run, exit_zero, select, extend_select, ignore, target_version,
        config_overrides, config_file, output_format, statistics, quiet, no_cache):
    """Fix what can be fixed in PATHS. Without --write, only show the diff."""
    settings = _settings(paths, select, extend_select, ignore, target_version, config_overrides, config_file)
    unsafe = settings.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
    found = _discover(paths, settings)
    from msfix.runner import run_files
    from msfix.source import atomic_write

    results = run_files(found.files, settings, fix=True, unsafe=unsafe, progress=_want_progress(len(found.files)))
    bad = _report_errors(results) + len(found.errors)
    pending = False
    fmt = output_format or settings.output_format
    # machine formats (sarif, github, junit, json-lines) keep stdout parseable: a diff only with --diff
    show_diff = diff or (not write and fmt not in ("json-lines", "sarif", "github", "junit"))
    out = sys.stdout
    for r in results:
        if r.fix_error:
            _error(f"{r.path}: {r.fix_error}")
            bad += 1
        if not r.changed:
            continue
        if smoke_run and hasattr(r, "cell_diff"):
            _error(f"{r.path}: --smoke does not run notebooks; notebook left unchanged")
            bad += 1
            r.fixed_text = r.source.text
            r.fixes_applied = 0
            continue
        if smoke_run:
            ok = _smoke_fixed(r, out, output_format)
            if not ok:
                bad += 1
                r.fixed_text = r.source.text
                r.fixes_applied = 0
                continue
        if show_diff:
            out.write(_diff(r))
        if write:
            try:
                atomic_write(Path(r.path), r.source.encode(r.fixed_text))
            except OSError as exc:
                _error(f"{r.path}: cannot write: {exc.strerror or exc}")
                bad += 1
        else:
            pending = True
    if output_format == "json":
        _emit(results, "json", statistics, quiet, fix_mode=True, unsafe=unsafe, written=write)
    else:
        _emit(results, output_format or settings.output_format, statistics, quiet, fix_mode=True, unsafe=unsafe,
              written=write)
    if bad:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FOUND if (pending or any(r.diagnostics for r in results)) and not exit_zero else EXIT_OK)


def _diff(r) -> str:
    if hasattr(r, "cell_diff"):  # a notebook: one diff per changed cell
        return r.cell_diff()
    a = r.source.text.splitlines(keepends=True)
    b = r.fixed_text.splitlines(keepends=True)
    name = r.path.replace("\\", "/")
    src, dst = (name, name) if name.startswith("/") else (f"a/{name}", f"b/{name}")
    lines = list(difflib.unified_diff(a, b, fromfile=src, tofile=dst))
    return "".join(x if x.endswith(("\n", "\r")) else x + "\n" for x in lines)


def _smoke_fixed(r, out, output_format) -> bool:
    """Smoke-run the fixed text from a temporary copy; True if it may be written."""
    import tempfile

    from msfix.smoke.runner import SmokeUnavailable, run_smoke

    with tempfile.TemporaryDirectory(prefix="msfix-fix-smoke-") as tmp:
        copy = Path(tmp) / Path(r.path).name
        copy.write_bytes(r.source.encode(r.fixed_text))
        try:
            report = run_smoke(copy, extra_path=[Path(r.path).resolve().parent])
        except SmokeUnavailable as exc:
            _error(f"{r.path}: --smoke: {exc}")
            return False
    ok = report.outcome in ("passed", "diverged")
    verdict = "fixed script runs" if ok else "fixed script does not run; file left unchanged"
    click.echo(f"{r.path}: smoke {report.outcome}: {verdict}", err=True)
    if not ok or report.outcome == "diverged":
        from msfix.smoke.report import render_text

        click.echo(render_text(report), err=True)
    return ok


@main.command("config")
@click.argument("path", required=False)
@click.option("--config-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Use this msfix.toml or pyproject.toml instead of the nearest one.")
@click.option("--config", "config_overrides", multiple=True, metavar="KEY=VALUE", help="Override a key.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
def config_cmd(path, config_file, config_overrides, output_format):
    """Print the effective settings for PATH (default: the current directory) and where
    each one comes from."""
    from msfix.config import _KEYS, ConfigError, load_settings, tomllib

    start = Path(path) if path else Path.cwd()
    try:
        settings = load_settings(config_file, start if start.exists() else Path.cwd(), config_overrides)
    except ConfigError as exc:
        _error(str(exc))
        sys.exit(EXIT_ERROR)
    from_file = set()
    where = None
    if settings.config_path is not None:
        data = tomllib.loads(settings.config_path.read_text(encoding="utf-8"))
        table = data.get("tool", {}).get("msfix", {}) if settings.config_path.name == "pyproject.toml" else data
        from_file = set(table)
        where = str(settings.config_path) + (" [tool.msfix]" if settings.config_path.name == "pyproject.toml" else "")
    overridden = {item.split("=", 1)[0].strip() for item in config_overrides}
    values = settings.as_dict()
    values.pop("config-file", None)
    configured_target = settings.target_version
    resolved = _resolve_target(configured_target)
    values["target-version"] = resolved
    sources = {}
    for key in _KEYS:
        sources[key] = "--config" if key in overridden else where if key in from_file else "default"
    if configured_target is None and resolved is not None:
        sources["target-version"] = "default (the installed mindspore, else the newest indexed version)"
    if values.get("output-format") is None:
        values["output-format"] = "text"
    if values.get("cache-dir") is None:
        from msfix.cache import cache_dir

        values["cache-dir"] = str(cache_dir(settings))
    if output_format == "json":
        click.echo(json.dumps({"config-file": str(settings.config_path) if settings.config_path else None,
                               "root": str(settings.root),
                               "settings": values, "sources": sources}, indent=2))
        return
    click.echo(f"# config file: {where or 'none (defaults)'}")
    click.echo(f"# root for relative patterns: {settings.root}")
    for key, value in values.items():
        click.echo(f"{key} = {_toml(value)}  # {sources.get(key, 'default')}")


def _toml(value) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


@main.command("server")
def server_cmd():
    """Run the Language Server (LSP over stdio) for editors. Needs `pip install 'msfix[lsp]'`."""
    try:
        from msfix.server import main as serve
    except ImportError as exc:
        _error(f"`msfix server` needs pygls ({exc}); install it with `pip install 'msfix[lsp]'`")
        sys.exit(EXIT_ERROR)
    serve()


@main.command("clean")
@click.option("--config-file", type=click.Path(dir_okay=False, path_type=Path), default=None)
def clean_cmd(config_file):
    """Remove the result cache (.msfix_cache or `cache-dir`)."""
    from msfix.cache import clean
    from msfix.config import ConfigError, load_settings

    try:
        settings = load_settings(config_file)
    except ConfigError as exc:
        _error(str(exc))
        sys.exit(EXIT_ERROR)
    removed = clean(settings)
    click.echo(f"removed {removed}" if removed else "no cache to remove")


@main.command("rules")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
def rules_cmd(output_format):
    """List every rule."""
    from msfix.rule import all_rules

    rules = all_rules()
    if output_format == "json":
        click.echo(json.dumps([_rule_dict(r) for r in rules], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="msfix rules", show_lines=False)
    for col in ("Code", "Name", "Severity", "Fix", "Summary"):
        table.add_column(col, overflow="fold")
    for r in rules:
        fix = "" if r.fix_applicability is None else r.fix_applicability.value
        table.add_row(r.code, r.name, r.severity.value, fix, r.summary)
    Console().print(table)


def _rule_dict(r) -> dict:
    return {
        "code": r.code,
        "name": r.name,
        "severity": r.severity.value,
        "fix": None if r.fix_applicability is None else r.fix_applicability.value,
        "summary": r.summary,
        "versions": r.versions,
        "documentation": r.documentation(),
    }


@main.command("rule")
@click.argument("code")
@click.option("--output-format", type=click.Choice(["text", "json", "markdown"]), default="text")
def rule_cmd(code, output_format):
    """Show the documentation of rule CODE (e.g. MS201)."""
    from msfix.rule import all_rules, rule_by_code

    r = rule_by_code(code)
    if r is None:
        for cand in all_rules():
            if cand.name == code:
                r = cand
    if r is None:
        _error(f"unknown rule `{code}` (see `msfix rules`)")
        sys.exit(EXIT_ERROR)
    if output_format == "json":
        click.echo(json.dumps(_rule_dict(r), indent=2))
    elif output_format == "markdown" or not sys.stdout.isatty():
        click.echo(r.documentation(), nl=False)
    else:
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(r.documentation()))


if __name__ == "__main__":  # pragma: no cover
    main()
