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
                     help="Use this msfix.toml or pyproject.toml for every file instead of the nearest one.")(f)
    f = click.option("--output-format", type=click.Choice(list(FORMATS)), default=None,
                     help="How to print diagnostics (text, concise, json, json-lines, sarif, github, junit).")(f)
    f = click.option("--statistics", is_flag=True, help="Print counts per rule instead of each diagnostic.")(f)
    f = click.option("--quiet", "-q", is_flag=True, help="Print diagnostics only, no source snippets or summary.")(f)
    f = click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")(f)
    f = click.option("--exclude", multiple=True, metavar="PATTERNS",
                     help="Glob patterns to skip, replacing `exclude` from the configuration (comma-separated).")(f)
    f = click.option("--extend-exclude", multiple=True, metavar="PATTERNS",
                     help="Glob patterns to skip in addition to `exclude` (comma-separated).")(f)
    f = click.option("--force-exclude", is_flag=True,
                     help="Apply `exclude` to files named on the command line too (for pre-commit).")(f)
    f = click.option("--stdin-filename", default=None, metavar="PATH",
                     help="With `-` as the path: the name of the file read from stdin (for messages and "
                          "configuration).")(f)
    f = click.option("--show-settings", is_flag=True,
                     help="Print the settings in force for the first path and exit.")(f)
    f = click.option("--show-fixes", is_flag=True, help="List the fixes applied, per file and rule.")(f)
    f = click.option("--no-color", is_flag=True, help="No colours (also NO_COLOR=1; FORCE_COLOR=1 forces them).")(f)
    return f


class _Options:
    """The options of one check/fix run (click passes them as keywords)."""

    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)


def _cli_adjust(opts):
    """The command-line options, applied on top of each configuration file."""
    import os

    from msfix.rule import all_rules

    def absolute(patterns):
        # a pattern with a slash is relative to the current directory, as the user typed it
        return [os.path.abspath(p) if "/" in p.rstrip("/") else p for p in _split(patterns)]

    def adjust(settings) -> None:
        if opts.select:
            settings.select = _split(opts.select)
        if opts.extend_select:
            settings.extend_select = [*settings.extend_select, *_split(opts.extend_select)]
        if opts.ignore:
            settings.ignore = [*settings.ignore, *_split(opts.ignore)]
        if opts.exclude:
            settings.exclude = absolute(opts.exclude)
        if opts.extend_exclude:
            settings.extend_exclude = [*settings.extend_exclude, *absolute(opts.extend_exclude)]
        if opts.target_version:
            settings.target_version = opts.target_version
        where = "--target-version" if opts.target_version else settings.sources.get("target-version", "config")
        settings.target_version = _resolve_target(settings.target_version, _target_start(settings, opts), where)
        if settings.output_format is not None and settings.output_format not in FORMATS:
            where = settings.sources.get("output-format", "config")
            raise _UsageError(f"{where}: output-format {settings.output_format!r}: expected one of {', '.join(FORMATS)}")
        known = {r.code for r in all_rules()}
        for code in [*settings.select, *settings.extend_select, *settings.ignore]:
            c = code.upper()
            if c != "ALL" and not any(k.startswith(c) for k in known):
                raise _UsageError(f"unknown rule code or prefix `{code}` (see `msfix rules`)")

    return adjust


class _UsageError(Exception):
    pass


def _resolver(opts):
    from msfix.config import SettingsResolver

    return SettingsResolver(opts.config_file, opts.config_overrides, _cli_adjust(opts))


def _first_settings(resolver, paths):
    """Run-wide settings (output-format, cache): from the configuration of the first path."""
    import os

    start = Path(paths[0]) if paths else Path.cwd()
    start = Path(os.path.abspath(start))
    return resolver.for_dir(start if start.is_dir() else start.parent)


def _target(spec: Optional[str], start: Optional[Path], where: str = "--target-version"):
    """msfix.target.resolve_target; an unknown explicit version is a usage error (exit 2)."""
    from msfix.target import UnknownTargetVersion, resolve_target

    try:
        return resolve_target(start, spec, where)
    except UnknownTargetVersion as exc:
        _error(f"--target-version {exc}" if where == "--target-version" else f"{where}: target-version {exc}")
        sys.exit(EXIT_ERROR)


def _resolve_target(spec: Optional[str], start: Optional[Path] = None,
                    where: str = "--target-version") -> Optional[str]:
    """The indexed MindSpore release to check against: the explicit version (validated),
    else the project's pin found walking up from `start`, else the installed, else the newest."""
    return _target(spec, start, where).version


def _target_start(settings, opts) -> Path:
    """Where the project files are looked for: the first path of the run, unless these
    settings come from a configuration file that does not contain it (then its directory)."""
    import os

    paths = getattr(opts, "paths", None) or ()
    first = Path(os.path.abspath(paths[0])) if paths else Path.cwd()
    if settings.config_path is None:
        return first
    root = Path(os.path.abspath(settings.config_path)).parent
    try:
        first.relative_to(root)
        return first
    except ValueError:
        return root


def _discover(paths, settings, force_exclude: bool = False):
    from msfix.discover import discover

    found = discover(paths, settings, force_exclude=force_exclude)
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


def _use_color(no_color: bool, stream=None) -> bool:
    """Colours on a terminal, as ruff: never with --no-color or NO_COLOR, always with
    FORCE_COLOR, else only when stdout is a terminal that is not dumb."""
    import os

    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    stream = stream or sys.stdout
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError, OSError):
        return False


def _emit(results, output_format, statistics, quiet, fix_mode=False, unsafe=False, written=True, failed=0,
          color=False, fix_only=False, out=None):
    from msfix.report import get_reporter
    from msfix.report.text import report_statistics

    out = out or sys.stdout
    if statistics:
        report_statistics(results, out)
        return
    get_reporter(output_format or "text")(results, out, quiet=quiet, fix_mode=fix_mode, unsafe=unsafe,
                                          written=written, failed=failed, color=color, fix_only=fix_only)


class _Group(click.Group):
    """Loads the `smoke` command only when it is asked for; a rule plugin that cannot be
    registered is a one-line error (exit 2), not a traceback."""

    def invoke(self, ctx):
        from msfix.rule import RuleRegistryError

        try:
            return super().invoke(ctx)
        except RuleRegistryError as exc:
            _error(str(exc))
            ctx.exit(EXIT_ERROR)

    def list_commands(self, ctx):
        return sorted([*super().list_commands(ctx), "smoke"])

    def get_command(self, ctx, name):
        if name == "smoke":
            from msfix.smoke.command import smoke

            return smoke
        return super().get_command(ctx, name)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="msfix")
def main() -> None:
    """msfix: a linter and autofixer for MindSpore training scripts."""


def _paths_argument(f):
    return click.argument("paths", nargs=-1, required=False)(f)


@main.command(short_help="Report defects in files or directories (default: the current one).")
@_paths_argument
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found (errors reading files still exit 2).")
@click.option("--add-noqa", is_flag=True,
              help="Add `# noqa: CODE` to every reported line (merging with existing noqa comments), then exit.")
@click.option("--fix", "apply_fix", is_flag=True, help="Apply the fixes and write the files (as `msfix fix --write`).")
@click.option("--fix-only", is_flag=True, help="Apply the fixes and report only what was fixed (exit 0).")
@click.option("--diff", is_flag=True, help="With --fix/--fix-only: show the diff instead of writing.")
@click.option("--unsafe-fixes", is_flag=True, default=None, help="With --fix: also apply fixes that guess intent.")
@click.option("--watch", is_flag=True, help="Check again whenever a file changes (polling; Ctrl-C to stop).")
@selection_options
def check(paths, **kw):
    """Report defects in PATHS (files or directories; default: the current directory;
    `-` reads stdin). Exit 1 if anything is found."""
    opts = _Options(paths=paths, **kw)
    if opts.watch:
        sys.exit(_watch(opts))
    sys.exit(_run(opts, "fix" if (opts.apply_fix or opts.fix_only) else "check"))


@main.command(short_help="Fix what can be fixed; without --write, only show the diff.")
@_paths_argument
@click.option("--write", "-w", is_flag=True, help="Rewrite the files in place.")
@click.option("--diff", is_flag=True, help="Show the changes as a unified diff (the default without --write).")
@click.option("--unsafe-fixes", is_flag=True, default=None, help="Also apply fixes that guess intent.")
@click.option("--smoke", "smoke_run", is_flag=True,
              help="Run each fixed script briefly (msfix smoke) and write it only if it runs; a file named "
                   "on the command line is run even if no fix changed it. With --unsafe-fixes, a repair loop: "
                   "when the run crashes where a rewrite is known (a size only the run tells: a Dense/Conv2d "
                   "in_channels; or the fix of the rule the crash maps to), apply it and run again (without "
                   "--unsafe-fixes the repair is only named).")
@click.option("--max-rounds", type=click.IntRange(min=1), default=3, show_default=True,
              help="With --smoke: smoke runs per file at most (repairs between them).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems remain (errors still exit 2).")
@click.option("--fix-only", is_flag=True, help="Report only what was fixed, not what remains (exit 0).")
@selection_options
def fix(paths, **kw):
    """Fix what can be fixed in PATHS (default: the current directory; `-` reads stdin
    and prints the fixed text). Without --write, only show the diff."""
    sys.exit(_run(_Options(paths=paths, apply_fix=False, add_noqa=False, watch=False, **kw), "fix"))


def _run(opts, mode: str) -> int:
    from msfix.config import ConfigError

    try:
        return _run_once(opts, mode)
    except (ConfigError, _UsageError) as exc:
        _error(str(exc))
        return EXIT_ERROR


def _run_once(opts, mode: str) -> int:
    paths = list(opts.paths) or (["-"] if opts.stdin_filename else ["."])  # as ruff: a name alone means stdin
    resolver = _resolver(opts)
    if "-" in paths:
        if len(paths) > 1:
            raise _UsageError("`-` (read stdin) cannot be combined with other paths")
        return _run_stdin(opts, mode, resolver)
    if opts.stdin_filename:
        raise _UsageError("--stdin-filename needs `-` as the path")
    base = _first_settings(resolver, paths)
    if opts.show_settings:
        _print_settings(base, opts.config_overrides, "text", Path(paths[0]))
        return EXIT_OK
    fmt = opts.output_format or base.output_format
    color = _use_color(opts.no_color)
    fixing = mode == "fix"
    found = _discover(paths, resolver, opts.force_exclude)
    from msfix.runner import run_files

    unsafe_flag = getattr(opts, "unsafe_fixes", None)
    if not fixing:
        results = run_files(found.files, base, use_cache=not (opts.no_cache or opts.add_noqa),
                            progress=_want_progress(len(found.files)), resolver=resolver)
        bad = _report_errors(results) + len(found.errors)
        _warn_empty(paths)
        if opts.add_noqa:
            bad += _add_noqa(results)
            return EXIT_ERROR if bad else EXIT_OK
        _emit(results, fmt, opts.statistics, opts.quiet, failed=bad, color=color)
        if bad:
            return EXIT_ERROR
        return EXIT_FOUND if any(r.diagnostics for r in results) and not opts.exit_zero else EXIT_OK
    return _fix_files(opts, found, base, resolver, fmt, color, unsafe_flag, paths)


def _fix_files(opts, found, base, resolver, fmt, color, unsafe_flag, paths) -> int:
    import os

    from msfix.report.remap import remap_result
    from msfix.runner import run_files
    from msfix.source import atomic_write

    # `fix` writes with --write; `check --fix` / `check --fix-only` write unless --diff
    write = opts.write if hasattr(opts, "write") else not opts.diff
    smoke_run = getattr(opts, "smoke_run", False)
    unsafe = base.unsafe_fixes if unsafe_flag is None else unsafe_flag
    smoke_rejected = False
    named = {os.path.realpath(p) for p in paths} if smoke_run else set()
    results = run_files(found.files, base, fix=True, unsafe=unsafe_flag, progress=_want_progress(len(found.files)),
                        resolver=resolver)
    bad = _report_errors(results) + len(found.errors)
    _warn_empty(paths)
    pending = False
    # machine formats (sarif, github, junit, json-lines) keep stdout parseable: a diff only with --diff
    show_diff = opts.diff or (not write and fmt not in ("json", "json-lines", "sarif", "github", "junit")
                              and not opts.fix_only)
    out = sys.stdout
    original = {}  # index -> result of the file as it is on disk, for --show-fixes and rejected writes
    for i, r in enumerate(results):
        if r.fix_error:
            _error(f"{r.path}: {r.fix_error}")
            bad += 1
        for dropped in getattr(r, "dropped_fixes", ()):
            click.echo(f"msfix: warning: {r.path}:{dropped}", err=True)
        # --smoke runs (and repairs) a file named on the command line even if no fix changed it
        as_is = (not r.changed and r.source is not None and not r.fix_error and not hasattr(r, "cell_diff")
                 and os.path.realpath(r.path) in named)
        if not r.changed and not as_is:
            continue
        if opts.show_fixes:
            original[i] = _relint(r, resolver)
        rejected = False
        if smoke_run and hasattr(r, "cell_diff"):
            _error(f"{r.path}: --smoke does not run notebooks; notebook left unchanged")
            bad += 1
            rejected = True
        elif smoke_run:
            status = _smoke_fixed(r, out, fmt, unsafe, getattr(opts, "max_rounds", 3), resolver)
            if status == "unavailable":
                bad += 1
            smoke_rejected = smoke_rejected or status == "rejected"
            rejected = status != "ok"
        if rejected:
            # the file stays as it is: report its own diagnostics, at its own positions
            results[i] = original.pop(i, None) or _relint(r, resolver)
            continue
        if not r.changed:
            continue  # it runs as it is: nothing to write
        if show_diff:
            out.write(_diff(r))
        if write:
            try:
                atomic_write(Path(r.path), r.source.encode(r.fixed_text))
            except OSError as exc:
                _error(f"{r.path}: cannot write: {exc.strerror or exc}")
                bad += 1
                results[i] = original.pop(i, None) or _relint(r, resolver)
        else:
            pending = True
            remap_result(r)  # what remains, shown where it is in the file on disk
    if opts.fix_only:
        for r in results:
            r.diagnostics = []
    if opts.show_fixes:
        _show_fixes(results, original, write, sys.stderr if fmt not in (None, "text", "concise") else out)
    _emit(results, fmt, opts.statistics, opts.quiet, fix_mode=True, unsafe=unsafe, written=write, failed=bad,
          color=color, fix_only=opts.fix_only)
    if bad:
        return EXIT_ERROR
    if opts.fix_only:
        return EXIT_OK
    remaining = pending or smoke_rejected or any(r.diagnostics for r in results)
    return EXIT_FOUND if remaining and not opts.exit_zero else EXIT_OK


def _relint(r, resolver):
    """A fresh check of the file on disk (a fix that was not written)."""
    from msfix.runner import Job, _run as run_job, rules_for

    s = resolver.for_file(r.path)
    job = Job(r.path, tuple(x.code for x in rules_for(s, Path(r.path))), False, False, s.target_version,
              s.max_file_size)
    return run_job(job)


def _show_fixes(results, original, written, out) -> None:
    """`--show-fixes`: per file, the rules whose problems the fixes removed."""
    from collections import Counter

    from msfix.rule import rule_by_code

    total = sum(r.fixes_applied for r in results)
    if not total:
        out.write("No fixes applied.\n")
        return
    out.write(f"{'Fixed' if written else 'Would fix'} {total} problem{'s' if total != 1 else ''}:\n")
    for i, r in enumerate(results):
        if not r.fixes_applied:
            continue
        before = Counter(d.code for d in original[i].diagnostics) if i in original else Counter()
        gone = before - Counter(d.code for d in r.diagnostics)
        out.write(f"- {r.path}:\n")
        for code, n in sorted(gone.items()):
            rule = rule_by_code(code)
            out.write(f"    {n} \u00d7 {code} ({rule.name if rule else code})\n")
    out.write("\n")


def _run_stdin(opts, mode: str, resolver) -> int:
    """`-`: check (or fix) the text on stdin; --stdin-filename names it and chooses the
    configuration. Fixing prints the fixed text (or the diff with --diff) on stdout and
    the report on stderr, as ruff does."""
    import os

    from msfix.engine import FileResult, ParseError, fix_text, lint_text
    from msfix.runner import rules_for
    from msfix.source import SourceError, decode_source

    name = opts.stdin_filename or "-"
    where = Path(os.path.abspath(name)) if opts.stdin_filename else Path.cwd() / "-"
    settings = resolver.for_file(where)
    raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    fixing = mode == "fix"
    write_back = fixing and (opts.write if hasattr(opts, "write") else not opts.diff)
    if opts.force_exclude and opts.stdin_filename and settings.is_excluded(where):
        if write_back:
            sys.stdout.buffer.write(raw) if hasattr(sys.stdout, "buffer") else sys.stdout.write(raw.decode())
        return EXIT_OK
    if name.endswith(".ipynb"):
        raise _UsageError("notebooks cannot be read from stdin; name the .ipynb file instead")
    fmt = opts.output_format or settings.output_format
    try:
        src = decode_source(raw, Path(name))
    except SourceError as exc:
        _error(f"{name}: {exc}")
        return EXIT_ERROR
    rules = rules_for(settings, where)
    res = FileResult(name, source=src)
    unsafe = settings.unsafe_fixes if getattr(opts, "unsafe_fixes", None) is None else opts.unsafe_fixes
    try:
        if fixing:
            text, outcome, applied, err = fix_text(src.text, rules, unsafe, name, settings.target_version)
            res.fixed_text, res.fixes_applied, res.fix_error = text, applied, err
        else:
            outcome = lint_text(src.text, rules, name, settings.target_version)
    except ParseError as exc:
        _error(f"{name}: {exc}")
        if write_back:
            sys.stdout.write(src.text)
        return EXIT_ERROR
    res.diagnostics = outcome.diagnostics
    bad = _report_errors([res])
    if res.fix_error:
        _error(f"{name}: {res.fix_error}")
        bad += 1
    report_out = sys.stdout
    if fixing:
        report_out = sys.stderr
        if write_back:
            sys.stdout.write(res.fixed_text)
        else:
            sys.stdout.write(_diff(res))
            from msfix.report.remap import remap_result

            remap_result(res)
    if opts.fix_only:
        res.diagnostics = []
    _emit([res], fmt, opts.statistics, opts.quiet, fix_mode=fixing, unsafe=unsafe, written=write_back, failed=bad,
          color=_use_color(opts.no_color, report_out), fix_only=opts.fix_only, out=report_out)
    if bad:
        return EXIT_ERROR
    if opts.fix_only:
        return EXIT_OK
    remaining = bool(res.diagnostics) or (fixing and not write_back and res.changed)
    return EXIT_FOUND if remaining and not opts.exit_zero else EXIT_OK


def _watch(opts) -> int:
    """`check --watch`: check, then poll the files (and configuration files) every
    MSFIX_WATCH_INTERVAL seconds (0.5) and check again when one changes, appears or
    goes. MSFIX_WATCH_MAX_RUNS bounds the number of runs (for tests)."""
    import os
    import time

    interval = float(os.environ.get("MSFIX_WATCH_INTERVAL") or 0.5)
    max_runs = int(os.environ.get("MSFIX_WATCH_MAX_RUNS") or 0)
    if "-" in opts.paths:
        _error("--watch cannot read stdin")
        return EXIT_ERROR
    runs, code = 0, EXIT_OK
    try:
        while True:
            code = _run(opts, "fix" if (opts.apply_fix or opts.fix_only) else "check")
            runs += 1
            sys.stdout.flush()
            if max_runs and runs >= max_runs:
                return code
            click.echo("[msfix] watching for changes (Ctrl-C to stop)", err=True)
            after = _snapshot(opts)  # a --fix run changes the files it fixed
            while _snapshot(opts) == after:
                time.sleep(interval)
            click.echo("[msfix] file change detected; checking again", err=True)
    except KeyboardInterrupt:
        return code


def _snapshot(opts):
    import os

    from msfix.config import find_config
    from msfix.discover import discover

    try:
        resolver = _resolver(opts)
        found = discover(list(opts.paths) or ["."], resolver, force_exclude=opts.force_exclude)
    except Exception:  # a broken configuration is reported by the run itself
        found = None
    state = {}
    files = found.files if found is not None else []
    configs = {find_config(Path(os.path.abspath(f)).parent) for f in files} | {find_config(Path.cwd())}
    for p in [*files, *[c for c in configs if c is not None]]:
        try:
            st = os.stat(p)
            state[os.path.abspath(p)] = (st.st_mtime_ns, st.st_size)
        except OSError:
            state[os.path.abspath(p)] = None
    return state


def _diff(r) -> str:
    if hasattr(r, "cell_diff"):  # a notebook: one diff per changed cell
        return r.cell_diff()
    a = r.source.text.splitlines(keepends=True)
    b = r.fixed_text.splitlines(keepends=True)
    name = r.path.replace("\\", "/")
    src, dst = (name, name) if name.startswith("/") else (f"a/{name}", f"b/{name}")
    lines = list(difflib.unified_diff(a, b, fromfile=src, tofile=dst))
    return "".join(x if x.endswith(("\n", "\r")) else x + "\n" for x in lines)


def _smoke_fixed(r, out, output_format, unsafe=False, max_rounds=3, resolver=None) -> str:
    """Smoke-run the fixed text from a temporary copy: "ok" if it may be written,
    "rejected" if it does not run, "unavailable" if it could not be run at all.
    With `unsafe`, a repair loop (msfix/smoke/repair.py): a crash at a line where a
    rewrite is known is repaired and the copy run again, at most `max_rounds` runs;
    `r.fixed_text` becomes the version that ran. Every round is printed."""
    from msfix.smoke.repair import repair_loop
    from msfix.smoke.runner import SmokeUnavailable

    text = r.fixed_text if r.fixed_text is not None else r.source.text
    settings = resolver.for_file(r.path) if resolver is not None else None
    try:
        outcome = repair_loop(text, r.path, r.source.encode, script_dir=Path(r.path).resolve().parent,
                              max_rounds=max_rounds, enabled=unsafe,
                              target_version=settings.target_version if settings is not None else None,
                              echo=lambda line: click.echo(f"{r.path}: smoke {line}", err=True))
    except SmokeUnavailable as exc:
        _error(f"{r.path}: --smoke: {exc}")
        return "unavailable"
    report = outcome.report
    if report is not None:
        report.script = r.path  # the run was of a temporary copy
    ok = outcome.status == "ok"
    what = "fixed script" if r.changed else "script"
    if ok and outcome.repairs:
        n = len(outcome.repairs)
        verdict = f"repaired script runs ({n} repair{'s' if n != 1 else ''})"
    elif ok:
        verdict = f"{what} runs" + ("" if r.changed else "; nothing to write")
    else:
        verdict = f"{what} does not run; file left unchanged ({outcome.reason})"
    click.echo(f"{r.path}: smoke {report.outcome if report is not None else 'crashed'}: {verdict}", err=True)
    if report is not None and (not ok or report.outcome == "diverged"):
        from msfix.smoke.report import render_text

        click.echo(render_text(report), err=True)
    if ok and outcome.repairs:
        r.fixed_text = outcome.text
        r.fixes_applied += len(outcome.repairs)
        if settings is not None:
            r.diagnostics = _lint_fixed(r, settings)
    return "ok" if ok else "rejected"


def _lint_fixed(r, settings):
    """What remains in the repaired text (the diagnostics of the fixes no longer hold)."""
    from msfix.engine import ParseError, lint_text
    from msfix.runner import rules_for

    try:
        return lint_text(r.fixed_text, rules_for(settings, Path(r.path)), r.path, settings.target_version).diagnostics
    except ParseError:
        return r.diagnostics


@main.command("diagnose", short_help="Explain a MindSpore error log: script line, cause, msfix rule, fix.")
@click.argument("log")
@click.option("--script", type=click.Path(dir_okay=False), default=None,
              help="The script the log comes from: frames are matched by its file name and line text.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
def diagnose_cmd(log, script, output_format):
    """Read LOG (a traceback or a whole job log, from any machine; '-' for stdin) and print,
    for each MindSpore error found, the script line, the cause, the msfix rule that covers
    it and the fix. Exit 0 when a known pattern matched, 1 when none did, 2 when LOG
    cannot be read."""
    from msfix.diagnose import run as run_diagnose

    sys.exit(run_diagnose(log, script, output_format))


@main.command("config", short_help="Print the settings in force for a path and where each comes from.")
@click.argument("path", required=False)
@click.option("--config-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Use this msfix.toml or pyproject.toml instead of the nearest one.")
@click.option("--config", "config_overrides", multiple=True, metavar="KEY=VALUE", help="Override a key.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
def config_cmd(path, config_file, config_overrides, output_format):
    """Print the effective settings for PATH (a file or directory; default: the current
    directory) and where each one comes from. A file gets the configuration nearest to
    it, as in `msfix check`."""
    from msfix.config import ConfigError, settings_for

    start = Path(path) if path else Path.cwd()
    try:
        settings = settings_for(start, config_file, config_overrides)
    except ConfigError as exc:
        _error(str(exc))
        sys.exit(EXIT_ERROR)
    _print_settings(settings, config_overrides, output_format, start)


def _print_settings(settings, config_overrides, output_format, path) -> None:
    from msfix.config import _KEYS

    where = None
    if settings.config_path is not None:
        where = str(settings.config_path) + (" [tool.msfix]" if settings.config_path.name == "pyproject.toml" else "")
    values = settings.as_dict()
    values.pop("config-file", None)
    sources = {key: settings.sources.get(key, "default") for key in _KEYS}
    target = _target(settings.target_version, Path(path), sources["target-version"])
    values["target-version"] = target.version
    sources["target-version"] = target.source
    if values.get("output-format") is None:
        values["output-format"] = "text"
    if values.get("cache-dir") is None:
        from msfix.cache import cache_dir

        values["cache-dir"] = str(cache_dir(settings))
    extends = settings.sources.get("extend")
    if output_format == "json":
        click.echo(json.dumps({"config-file": str(settings.config_path) if settings.config_path else None,
                               "path": str(path), "root": str(settings.root),
                               "settings": values, "sources": sources}, indent=2))
        return
    click.echo(f"# settings for: {path}")
    click.echo(f"# config file: {where or 'none (defaults)'}")
    if extends:
        bases = sorted({v for k, v in settings.sources.items() if v not in (where, "--config")})
        click.echo(f"# extends: {', '.join(bases) if bases else '(nothing set)'}")
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


@main.command("server", short_help="Run the Language Server (LSP over stdio) for editors.")
def server_cmd():
    """Run the Language Server (LSP over stdio) for editors. Needs `pip install 'msfix[lsp]'`."""
    try:
        from msfix.server import main as serve
    except ImportError as exc:
        _error(f"`msfix server` needs pygls ({exc}); install it with `pip install 'msfix[lsp]'`")
        sys.exit(EXIT_ERROR)
    serve()


@main.command("clean", short_help="Remove the result cache.")
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


@main.command("rules", short_help="List every rule.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
def rules_cmd(output_format):
    """List every rule."""
    from msfix.rule import all_rules

    rules = all_rules()
    if output_format == "json":
        click.echo(json.dumps([_rule_dict(r) for r in rules], indent=2))
        return
    rows = [(r.code, r.name, r.severity.value, "" if r.fix_applicability is None else r.fix_applicability.value,
             r.summary) for r in rules]
    if not sys.stdout.isatty():
        # a pipe or a file: whole names and summaries, one rule a line, columns aligned
        head = ("Code", "Name", "Severity", "Fix", "Summary")
        widths = [max(len(x[i]) for x in [head, *rows]) for i in range(4)]
        for row in [head, *rows]:
            click.echo("  ".join(v.ljust(w) for v, w in zip(row[:4], widths)) + "  " + row[4])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="msfix rules", show_lines=False)
    for col in ("Code", "Name", "Severity", "Fix"):
        table.add_column(col, no_wrap=True)
    table.add_column("Summary", overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(no_color=bool(__import__("os").environ.get("NO_COLOR"))).print(table)


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


@main.command("rule", short_help="Show the documentation of a rule (by code or name).")
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


main.add_command(rule_cmd, "explain")  # ruff's `rule`, under the name other linters use


if __name__ == "__main__":  # pragma: no cover
    main()
