"""Render a :class:`~msfix.smoke.runner.SmokeReport` as text (rich) or JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from msfix.smoke.runner import SmokeReport

_STYLES = {
    "passed": "bold green",
    "crashed": "bold red",
    "timed-out": "bold red",
    "diverged": "bold yellow",
    "no-steps": "bold yellow",
}


def short_message(message: str | None, max_lines: int = 6) -> str:
    """The user-facing part of an exception message (MindSpore appends C++ stacks)."""
    if not message:
        return ""
    lines = []
    for line in message.strip().splitlines():
        if line.startswith("----") or line.startswith("- C++ Call Stack"):
            break
        if line.strip():
            lines.append(line.rstrip())
        if len(lines) >= max_lines:
            lines.append("...")
            break
    return "\n".join(lines)


def _fmt_loss(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_timings(timings: dict) -> str:
    """``startup 2.9 s, synthetic data 2.3 s, train 8.1 s (first step 5.2 s, then 0.6 s/step), ...``"""
    parts = []
    for key, label in (("startup", "startup"), ("synthetic_data", "synthetic data"), ("train", "train"),
                       ("eval", "eval"), ("other", "other")):
        value = timings.get(key)
        if not isinstance(value, (int, float)) or (key not in ("startup", "other") and value < 0.05):
            continue
        text = f"{label} {value:.1f} s"
        if key == "train":
            inner = []
            if isinstance(timings.get("first_step"), (int, float)):
                inner.append(f"first step {timings['first_step']:.1f} s")
            if isinstance(timings.get("step"), (int, float)):
                inner.append(f"then {timings['step']:.2f} s/step")
            if timings.get("checkpoint_save", 0) >= 0.05:
                inner.append(f"checkpoints {timings['checkpoint_save']:.1f} s")
            if inner:
                text += f" ({', '.join(inner)})"
        parts.append(text)
    if timings.get("train", 0) < 0.05 and isinstance(timings.get("step"), (int, float)):
        parts.append(f"loop {timings['step']:.2f} s/step")  # custom loops only
    return ", ".join(parts)


def render_json(report: "SmokeReport") -> str:
    return json.dumps(report.to_dict(), indent=2, default=str)


def render_text(report: "SmokeReport", console: "Console | None" = None, *, verbose: bool = False) -> str:
    """Print the report to ``console``; without one, return it as plain text.

    With a console, the rendered text is printed there and "" is returned.
    """
    if console is None:
        import io

        from rich.console import Console

        buffer = io.StringIO()
        _render(report, Console(file=buffer, width=100, no_color=True, highlight=False), verbose)
        return buffer.getvalue().rstrip("\n")
    _render(report, console, verbose)
    return ""


def _render(report: "SmokeReport", console: "Console", verbose: bool) -> None:
    from rich.markup import escape
    from rich.panel import Panel
    from rich.text import Text

    style = _STYLES.get(report.outcome, "bold")
    head = Text()
    head.append("smoke ", style="bold")
    head.append(report.script)
    head.append("  ")
    head.append(report.outcome.upper(), style=style)
    head.append(f"  ({report.wall_time:.1f} s)", style="dim")
    console.print(head)

    if report.exception_type:
        where = report.location or report.script
        line = f"  [bold]{escape(where)}[/bold]: {escape(report.exception_type)}: "
        console.print(line + escape(short_message(report.message)))
        if report.rule_code:
            title = f" ({report.rule_title})" if report.rule_title else ""
            console.print(f"  covered by msfix rule [bold]{escape(report.rule_code)}[/bold]{escape(title)}")
    elif report.message:
        console.print(f"  {escape(report.message)}")

    parts = [f"steps: {report.steps}"]
    if report.train_steps and report.loop_steps:
        parts[0] += f" (Model {report.train_steps}, custom loops {report.loop_steps})"
    if report.first_loss is not None:
        parts.append(f"loss: {_fmt_loss(report.first_loss)} -> {_fmt_loss(report.last_loss)}")
    console.print("  " + "   ".join(escape(p) for p in parts))

    for cap in report.batch_caps:
        where = f" (line {cap['script_line']})" if cap.get("script_line") else ""
        console.print(f"  batch {cap.get('script')} -> {cap.get('smoke')} for the smoke run{escape(where)};"
                      " --batch-size script runs the script's batch size", style="dim")
    if report.capped_run:
        capped = report.capped_run
        sizes = ", ".join(f"{c.get('script')} -> {c.get('smoke')}" for c in capped.get("batch_caps") or [])
        what = escape(str(capped.get("outcome") or "crashed"))
        if capped.get("exception_type"):
            what += (f": {escape(str(capped.get('exception_type')))} at "
                     f"{escape(str(capped.get('location') or report.script))}")
        then = ("it passed: its code or its training depends on the batch size (e.g. a reshape to a fixed"
                " batch, BatchNorm over a few samples)" if report.outcome == "passed" else "the outcome above")
        console.print(f"  at the smoke batch ({escape(sizes)}) it {what} ({capped.get('wall_time', 0):.1f} s);"
                      f" re-run at the script's batch size, {then}", style="yellow")
    net = report.network or {}
    if net.get("class"):
        cells = net.get("cells") or []
        inner = f" of {', '.join(cells[:3])}{', ...' if len(cells) > 3 else ''}" if cells else ""
        size = f", {net['parameters'] / 1e6:.1f}M parameters" if isinstance(net.get("parameters"), int) else ""
        console.print(f"  network: {escape(net['class'] + inner + size)}", style="dim")
    if report.timings:
        console.print(f"  time: {escape(format_timings(report.timings))}", style="dim")
    if report.eval_metrics:
        metrics = ", ".join(f"{k}={_fmt_loss(v)}" for k, v in report.eval_metrics.items())
        console.print(f"  eval: {escape(metrics)}")
    if report.checkpoints:
        console.print(f"  checkpoints: {escape(', '.join(report.checkpoints))}")
    device = report.device or {}
    if device.get("call"):
        console.print(f"  device: {escape(str(device.get('call')))}", style="dim")
    for entry in report.datasets:
        usage = entry.get("usage")
        usage_text = f", usage={usage!r}" if usage is not None else ""
        console.print(
            f"  data: {escape(entry.get('reader', '?'))}({escape(repr(entry.get('original_dir')))}{escape(usage_text)})"
            f" -> synthetic {escape(entry.get('synthetic', '?'))}",
            style="dim",
        )
    for entry in report.redirected_paths:
        console.print(
            f"  redirected {escape(entry.get('kind', ''))}: {escape(entry.get('original', ''))}"
            " -> smoke temp dir",
            style="dim",
        )
    for note in report.notes:
        rule = f" [{note['rule']}]" if note.get("rule") else ""
        console.print(f"  note: {escape(note.get('text', ''))}{escape(rule)}", style="yellow")

    if verbose:
        for name in ("stdout", "stderr"):
            text = getattr(report, name)
            console.print(Panel(Text(text.rstrip() or "(empty)"), title=f"script {name}", expand=True))
