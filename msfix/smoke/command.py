"""``msfix smoke``: run a MindSpore script briefly on synthetic data.

Importing this module is cheap: click only. MindSpore runs in the child
process; rich is imported when the report is printed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

_DEVICES = {"cpu": "CPU", "gpu": "GPU", "ascend": "Ascend"}

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_UNAVAILABLE = 2

# the same defaults as run_smoke (msfix.smoke.runner, not imported here: it is cheap, but
# the command's --help must not depend on it)
DEFAULT_STEPS = 3
DEFAULT_BATCH_SIZE = 8
DEFAULT_EVAL_STEPS = 1


class _BatchSize(click.ParamType):
    """A batch size >= 1, or ``script`` (None): the script's own batch size."""

    name = "N|script"

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "script":
            return None
        try:
            number = int(text)
        except ValueError:
            self.fail(f"{value!r} is neither a positive integer nor 'script'", param, ctx)
        if number < 1:
            self.fail(f"{value!r} is not a positive batch size", param, ctx)
        return number


@click.command(
    "smoke",
    short_help="Run a script briefly on synthetic data and report how it went.",
)
@click.argument("script", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--device",
    type=click.Choice(["CPU", "GPU", "Ascend"], case_sensitive=False),
    default="CPU",
    show_default=True,
    help="Device target for the run; the script's own device requests are overridden.",
)
@click.option("--steps", type=click.IntRange(min=1), default=DEFAULT_STEPS, show_default=True,
              help="Steps per epoch (Model.train/eval and custom loops).")
@click.option("--epochs", type=click.IntRange(min=1), default=1, show_default=True, help="Epochs at most.")
@click.option("--eval-steps", type=click.IntRange(min=1), default=DEFAULT_EVAL_STEPS, show_default=True,
              help="Batches per Model.eval (and Model.fit's validation).")
@click.option(
    "--batch-size",
    type=_BatchSize(),
    default=str(DEFAULT_BATCH_SIZE),
    show_default=True,
    help="Smoke batch cap: batch(N) over msfix's synthetic data runs at most this batch "
    "(the script's own data keeps its batch); 'script' runs the script's batch size. "
    "A crash or divergence after a capped batch() is re-run at the script's batch size, which decides.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=300.0,
    show_default=True,
    help="Seconds before the child's process group is killed.",
)
@click.option(
    "--python",
    "python",
    type=str,
    default=None,
    help="Interpreter that has MindSpore (default: the one running msfix).",
)
@click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--verbose", "-v", is_flag=True, help="Also print the script's stdout and stderr.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Live progress (phase, step, loss) on stderr. Default: on when stderr is a terminal and CI is not set.",
)
def smoke(script, script_args, device, steps, epochs, eval_steps, batch_size, timeout, python, output_format, verbose,
          progress):
    """Run SCRIPT in a child Python on synthetic data, capped to a few steps.

    Arguments after `--` are passed to the script (sys.argv[1:]). The run
    happens in a fresh temporary directory; nothing is written to yours.
    A notebook (.ipynb) runs its code cells in order, magics and `!shell`
    lines dropped; one with a cell that does not parse is refused (exit 2).

    Caps, so that a run takes seconds, not hours: --epochs, --steps per epoch,
    --eval-steps per evaluation, and --batch-size for msfix's synthetic data
    (printed as `batch 32 -> 8 for the smoke run`); the report says where the time went (startup, synthetic
    data, train with its first step and the later ones, eval).

    Exit status: 0 passed; 1 crashed, timed-out, diverged or no-steps;
    2 when the interpreter has no MindSpore or the notebook cannot be run.
    """
    from msfix.smoke.runner import SmokeUnavailable, run_smoke

    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("CI")
    live = _LiveProgress(script.name) if progress else None
    try:
        report = run_smoke(
            script,
            device=_DEVICES[device.lower()],
            steps=steps,
            epochs=epochs,
            eval_steps=eval_steps,
            batch_size=batch_size,
            timeout=timeout,
            python=python,
            script_args=tuple(script_args),
            progress=live.update if live else None,
        )
    except SmokeUnavailable as exc:
        click.echo(f"msfix smoke: {exc}", err=True)
        sys.exit(EXIT_UNAVAILABLE)
    finally:
        if live is not None:
            live.stop()

    if output_format == "json":
        from msfix.smoke.report import render_json

        click.echo(render_json(report))
    else:
        from rich.console import Console

        from msfix.smoke.report import render_text

        render_text(report, Console(), verbose=verbose)
    sys.exit(EXIT_PASSED if report.outcome == "passed" else EXIT_FAILED)


class _LiveProgress:
    """A one-line rich status on stderr (erased at the end): phase, step, loss."""

    def __init__(self, name: str):
        from rich.console import Console

        self.name = name
        # asked for explicitly (--progress) or a terminal: draw it as on a terminal
        self.console = Console(file=sys.stderr, force_terminal=True, highlight=False)
        self.status = None

    def update(self, snap: dict) -> None:
        from rich.markup import escape

        text = f"smoke {escape(self.name)}: {snap['phase']}"
        if snap.get("steps"):
            text += f"  step {snap['steps']}"
        if snap.get("loss") is not None:
            text += f"  loss {snap['loss']:.4g}"
        text += f"  [dim]{snap.get('elapsed', 0):.0f} s[/dim]"
        if self.status is None:
            self.status = self.console.status(text)
            self.status.start()
        else:
            self.status.update(text)

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
