"""The progress bar: on stderr for more than 50 files when stderr is a terminal; never
in a pipe or in CI."""

import io
import os
import pty
import subprocess
import sys

import pytest

from msfix.runner import show_progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_decision():
    tty, pipe = _Tty(), io.StringIO()
    assert show_progress(51, tty, env={})
    assert not show_progress(50, tty, env={})  # more than 50 files only
    assert not show_progress(500, pipe, env={})  # not a terminal
    assert not show_progress(500, tty, env={"CI": "true"})
    assert not show_progress(500, tty, env={"GITHUB_ACTIONS": "true"})
    assert not show_progress(500, tty, env={"TERM": "dumb"})
    assert show_progress(500, tty, env={"CI": "false"})


def _tree(tmp_path, n):
    for i in range(n):
        (tmp_path / f"s{i:03}.py").write_text(f"import mindspore.nn as nn\nlayer{i} = nn.Dense(3, 4)\n")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    env.update(TERM="xterm-256color", COLUMNS="100", **extra)
    return env


def _run_with_tty_stderr(args, cwd, env):
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "msfix", *args], cwd=cwd, env=env,
                                stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO once the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        out = proc.stdout.read().decode()
        proc.wait(timeout=120)
        return proc.returncode, out, b"".join(chunks).decode(errors="replace")
    finally:
        os.close(master)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal_only(tmp_path):
    _tree(tmp_path, 60)
    code, out, err = _run_with_tty_stderr(["check", "--no-cache", "."], tmp_path, _env())
    assert code == 0 and "All checks passed!" in out
    assert "60/60" in err and "msfix" in err  # the bar (transient: drawn, then erased)
    assert "60/60" not in out  # never on stdout
    # the same run in CI: no bar even on a terminal
    code, out, err = _run_with_tty_stderr(["check", "--no-cache", "."], tmp_path, _env(CI="true"))
    assert code == 0 and "/60" not in err
    # few files: no bar
    small = tmp_path / "few"
    small.mkdir()
    _tree(small, 5)
    code, out, err = _run_with_tty_stderr(["check", "--no-cache", "few"], tmp_path, _env())
    assert code == 0 and "/5" not in err


def test_no_progress_bar_in_a_pipe(tmp_path):
    _tree(tmp_path, 60)
    proc = subprocess.run([sys.executable, "-m", "msfix", "check", "--no-cache", "."], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert proc.stderr == ""
