"""``msfix diagnose LOG``: explain a MindSpore error from a traceback or a whole job log.

The log may come from any machine: paths of another machine, Ascend/GPU messages,
MindSpore's C++ stack sections and ``analyze_fail.ir`` notes, several tracebacks
interleaved with log noise (each line possibly behind a launcher prefix such as
``[1,0]<stderr>:``). Each error found is matched against the shared table of runtime
error patterns (``msfix/smoke/crash_map.json``, the one ``msfix smoke`` uses) and
reported with the script line it comes from, the cause in MindSpore's terms, the msfix
rule that covers it (if any) and the fix. Nothing here imports MindSpore.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Iterable, Optional

EXIT_MATCHED, EXIT_NO_MATCH, EXIT_UNREADABLE = 0, 1, 2

_TRACEBACK = "Traceback (most recent call last):"
_CHAIN = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
# glog header: [ERROR] ME(1234,7f..,python):2024-01-01-10:00:00.123.456 [file.cc:12] Func] text
_GLOG = re.compile(r"^\[(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL|EXCEPTION)\] [A-Z_]+\(\d+[,:][^)]*\)[^\[]*"
                   r"(?:\[(?P<src>[^\]]+)\]\s*(?:\w+\])?)?\s*(?P<text>.*)$")
_GLOG_START = re.compile(r"\[(?:DEBUG|INFO|WARNING|ERROR|CRITICAL|EXCEPTION)\] [A-Z_]+\(\d+[,:]")
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|StopIteration))"
                       r"(?::\s?(?P<msg>.*))?$")
_PY_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
# 2.x: 'In file x.py:12~14, 8~20' (analyze_fail.ir adds '/source/'); 1.x: 'In file x.py(12)'
_GRAPH_NOTE = re.compile(r"^\s*(?:#\s*(?:\d+\s+)?)?In file (?P<path>.+?)(?::(?P<line>\d+)(?:~(?P<end>\d+))?"
                         r"(?:,\s*[\d~]+)?|\((?P<line1x>\d+)\))\s*(?:/(?P<src>.*?)/?)?$")
_AT_FRAME = re.compile(r"^\s+(?P<path>[^\s()]+\.py)\((?P<line>\d+)\):\s*(?P<func>\S+)")
_HERE = re.compile(r"<-+HERE")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_IPY_START = re.compile(r"^[A-Za-z_][\w.]*\s+Traceback \(most recent call last\)\s*$")
_IPY8_CELL = re.compile(r"^(?P<path>Cell In\s*\[\d+\]), line (?P<line>\d+)")
_IPY8_FILE = re.compile(r"^File (?P<path>\S.*?\.py):(?P<line>\d+)(?:, in (?P<func>.*))?$")
_IPY7 = re.compile(r"^(?P<path><ipython-input-[^>]+>|\S+\.py) in (?P<func>.+)$")
_IPY_ARROW = re.compile(r"^-*> ?(?P<line>\d+)\s(?P<text>.*)$")
_DEVICE_CODE = re.compile(r"\b(?:E[A-Z0-9]\d{4}|EE\d{4}|errNo\[0x[0-9a-fA-F]+\])")


@dataclass
class Frame:
    path: str
    line: int
    func: str = ""
    text: str = ""  # the source line the log shows, if any
    kind: str = "python"  # python | graph (MindSpore's 'In file' notes) | at (glog 'At:' lines)
    marked: bool = False  # a graph note with MindSpore's '<----HERE' marker


@dataclass
class ErrorBlock:
    """One error of the log: a Python exception (type + message) or one log line."""

    exception: Optional[str]
    message: str
    log_line: int  # 1-based line of the log where it starts
    frames: list = field(default_factory=list)  # the traceback's frames, outermost first
    inner: list = field(default_factory=list)  # frames inside the message: graph notes, nested Python stacks
    chain: int = 0  # exceptions chained by 'During handling ...' / 'The above exception ...' share a number


@dataclass
class Diagnosis:
    id: str
    rule: Optional[str]
    title: str
    cause: str
    fix: str
    devices: list
    exception: Optional[str]
    message: str
    log_line: int
    location: Optional[dict]  # {path, line, text, in_script, note}
    frames: list  # other script frames, as "path:line"

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------
# the table


def load_patterns() -> tuple:
    """The shared runtime-error table (compiled), as ``msfix smoke`` reads it."""
    from msfix.smoke.runner import load_crash_map

    return load_crash_map()


def match_text(text: str, entries=None, *, log_line: bool = False) -> Optional[dict]:
    """First table entry whose pattern matches ``text`` ("ExcType: message", or a log line).

    For a log line (no exception), only patterns not anchored to an exception type are tried.
    """
    for entry in entries if entries is not None else load_patterns():
        if log_line and entry["pattern"].startswith("^"):
            continue
        if entry["regex"].search(text):
            return entry
    return None


# ---------------------------------------------------------------------------
# parsing


def _prefix_regex(prefix: str) -> Optional[re.Pattern]:
    """A launcher's per-line prefix (``[1,0]<stderr>:``, a timestamp) as a regex: digits vary."""
    if not prefix.strip():
        return None
    parts = re.split(r"\d+", prefix)
    return re.compile("^" + r"\d+".join(re.escape(p) for p in parts))


def _strip(line: str, prefix: Optional[re.Pattern]) -> Optional[str]:
    if prefix is None:
        return line
    m = prefix.match(line)
    return line[m.end():] if m else None


def _frames_in(lines: list[str]) -> list[Frame]:
    """Frames written inside a message: MindSpore's 'In file' notes, nested Python call
    stacks (dataset workers) and glog 'At:' lines, with the source text that follows them."""
    frames: list[Frame] = []
    for i, line in enumerate(lines):
        m = _PY_FRAME.match(line)
        kind = "python"
        if not m:
            m = _GRAPH_NOTE.match(line)
            kind = "graph"
        if not m:
            m = _AT_FRAME.match(line)
            kind = "at"
        if not m:
            continue
        text, marked = "", False
        if kind in ("python", "graph") and i + 1 < len(lines):
            nxt = lines[i + 1]
            if nxt.strip() and not (_PY_FRAME.match(nxt) or _GRAPH_NOTE.match(nxt)) and nxt.startswith(" "):
                text = nxt.strip()
            if kind == "graph":
                # the snippet runs to a blank line; MindSpore marks the failing line with HERE
                snippet = []
                for nxt in lines[i + 1:i + 40]:
                    if not nxt.strip() or _GRAPH_NOTE.match(nxt) or nxt.startswith("---"):
                        break
                    snippet.append(nxt)
                for j, s in enumerate(snippet):
                    if _HERE.search(s) and j > 0:
                        marked = True
                        text = snippet[j - 1].strip()
                        break
        if kind == "graph" and m.group("src") and not text:
            text = m.group("src").strip()  # analyze_fail.ir: '# In file x.py:12, 8~20/    return y/'
        groups = m.groupdict()
        number = groups["line"] or groups.get("line1x")
        assert number is not None  # each frame pattern captures a line number
        frames.append(Frame(path=groups["path"].strip(), line=int(number),
                            func=(groups.get("func") or "").strip(), text=text, kind=kind, marked=marked))
    return frames


def _ipython_frames(lines: list[str], i: int, consumed: set[int]) -> tuple[list[Frame], int]:
    """The frames of an IPython/Jupyter traceback (``Cell In[5], line 3``, ``File x.py:12, in f``,
    IPython 7's ``<ipython-input-5-..> in <module>``; ``----> 3 code`` marks the line)."""
    frames: list[Frame] = []
    while i < len(lines):
        line = lines[i]
        if _EXC_LINE.match(line):
            break
        m = _IPY8_CELL.match(line) or _IPY8_FILE.match(line) or _IPY7.match(line)
        if m:
            frames.append(Frame(path=m.group("path").strip(), line=int(m.groupdict().get("line") or 0),
                                func=(m.groupdict().get("func") or "").strip()))
        else:
            a = _IPY_ARROW.match(line)
            if a and frames:
                frames[-1].line, frames[-1].text = int(a.group("line")), a.group("text").strip()
        consumed.add(i)
        i += 1
    return frames, i


def parse_log(text: str) -> tuple[list[ErrorBlock], list[ErrorBlock]]:
    """Split a log into Python exceptions (with their frames) and error log lines."""
    lines = _ANSI.sub("", text).splitlines()
    blocks: list[ErrorBlock] = []
    consumed: set[int] = set()
    chain, chained = 0, False
    i = 0
    while i < len(lines):
        if lines[i].strip() in _CHAIN or any(lines[i].rstrip().endswith(c) for c in _CHAIN):
            chained = True
        ipy = _IPY_START.match(lines[i])
        pos = lines[i].find(_TRACEBACK)
        if pos < 0 and not ipy:
            i += 1
            continue
        prefix = None if ipy else _prefix_regex(lines[i][:pos])
        start = i
        consumed.add(i)
        i += 1
        frames: list[Frame] = []
        body: list[str] = []
        if ipy:
            frames, i = _ipython_frames(lines, i, consumed)
        # frames: indented lines
        while i < len(lines) and not ipy:
            line = _strip(lines[i], prefix)
            if line is None:  # another process's line, interleaved
                i += 1
                continue
            if line.startswith(" ") or not line.strip():
                body.append(line)
                consumed.add(i)
                i += 1
                continue
            break
        if not ipy:
            frames = [f for f in _frames_in(body) if f.kind == "python"]
        if i >= len(lines):
            break
        line = _strip(lines[i], prefix) or ""
        m = _EXC_LINE.match(line)
        if not m:
            continue
        exc_type = m.group("type").rsplit(".", 1)[-1]
        msg = [m.group("msg") or ""]
        consumed.add(i)
        i += 1
        nested = False
        while i < len(lines):
            raw = lines[i]
            line = _strip(raw, prefix)
            if line is None:
                i += 1
                continue
            if _GLOG.match(line) or line.strip() in _CHAIN:
                break
            if line.startswith(_TRACEBACK) and not nested:
                break
            if "- Python Call Stack:" in line:
                nested = True  # a dataset worker's traceback is part of this message
            elif line.startswith("- ") and line.rstrip().endswith(":") and "Python Call Stack" not in line:
                nested = False
            msg.append(line)
            consumed.add(i)
            i += 1
        message = "\n".join(msg).rstrip()
        if not chained:
            chain += 1
        chained = False
        blocks.append(ErrorBlock(exception=exc_type, message=message, log_line=start + 1,
                                 frames=frames, inner=_frames_in(msg[1:]), chain=chain))
    log_errors: list[ErrorBlock] = []
    # graph notes outside any exception: an analyze_fail.ir file (or its text pasted in a log)
    loose_notes = [f for f in _frames_in([ln for n, ln in enumerate(lines) if n not in consumed]) if f.kind == "graph"]
    in_glog: set[int] = set()  # continuation lines of a glog message already read with it
    for n, line in enumerate(lines):
        if n in consumed or n in in_glog:
            continue
        head = _GLOG_START.search(line)
        g = _GLOG.match(line[head.start():]) if head else None
        if g and head:  # g implies head
            if g.group("level") not in ("ERROR", "CRITICAL", "EXCEPTION"):
                continue
            glog_text = g.group("text")
            prefix = _prefix_regex(line[:head.start()])
            # the glog message continues on the following lines, up to the next log line
            follow = []
            for k, nxt in enumerate(lines[n + 1:n + 400], n + 1):
                if _GLOG_START.search(nxt) or _TRACEBACK in nxt or k in consumed:
                    break
                stripped = _strip(nxt, prefix)
                if stripped is None:
                    continue  # another process's line
                if re.match(r"\s*(?:E[A-Z0-9]\d{4}|EE\d{4})\b", stripped):
                    break  # an Ascend error-code line is an error of its own
                follow.append(stripped)
                in_glog.add(k)
            log_errors.append(ErrorBlock(exception=None, message="\n".join([glog_text, *follow]).rstrip(),
                                         log_line=n + 1, inner=_frames_in(follow)))
        elif _DEVICE_CODE.search(line) or re.search(r"\b(error|failed|fail)\b|analyze_fail", line, re.I):
            log_errors.append(ErrorBlock(exception=None, message=line.strip(), log_line=n + 1))
    for block in log_errors:
        if not block.inner:
            block.inner = list(loose_notes)
    return blocks, log_errors


# ---------------------------------------------------------------------------
# the user's frames


def _is_library(path: str) -> bool:
    p = path.replace("\\", "/")
    if p.startswith("<ipython-input-"):
        return False  # a notebook cell
    if p.startswith("<") or p.endswith((".cc", ".h", ".cpp")):
        return True
    if "/site-packages/" in p or "/dist-packages/" in p:
        return True
    if re.search(r"/lib/python\d+(\.\d+)?/|^[a-z]:/(?:[^/]+/)*python\d*/lib/", p, re.I):
        return True  # the standard library (POSIX, or C:\Python39\Lib\...)
    if re.match(r"^(mindspore|ccsrc)/", p):
        return True  # MindSpore's own sources, as its C++ stack names them
    return False


def _basename(path: str) -> str:
    return PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name


_CELL_FRAME = re.compile(r"^(?:Cell In\s*\[(?P<n8>\d+)\]|<ipython-input-(?P<n7>\d+)-[0-9a-f]*>)$")


class ScriptMatcher:
    """Maps frames of the log to the user's script (``--script``) or to non-library files.

    A notebook (``--script x.ipynb``): a cell frame (``Cell In[7]``, ``<ipython-input-7-..>``)
    is the code cell whose execution count is 7 (else the one cell holding the line's text)."""

    def __init__(self, script: Optional[Path]):
        self.script = script
        self.by_name = script is not None  # False: no frame of the log has the script's file name
        self.lines: list[str] = []
        self.cells: list[tuple[int, Optional[int], list[str]]] = []  # (cell number, execution count, lines)
        if script is None:
            return
        try:
            text = script.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return
        if script.suffix == ".ipynb":
            try:
                nb = json.loads(text)
                for number, cell in enumerate(nb.get("cells", []), 1):
                    if cell.get("cell_type") == "code":
                        src = cell.get("source", "")
                        src = "".join(src) if isinstance(src, list) else str(src)
                        self.cells.append((number, cell.get("execution_count"), src.splitlines()))
            except (ValueError, AttributeError):
                self.cells = []
        else:
            self.lines = text.splitlines()

    def is_user(self, frame: Frame) -> bool:
        if self.cells:
            return bool(_CELL_FRAME.match(frame.path))
        if self.by_name and self.script is not None:  # by_name implies a script
            return _basename(frame.path) == self.script.name
        return not _is_library(frame.path)

    def settle(self, frames: Iterable[Frame]) -> None:
        """Match by file name when the log names the script; otherwise (renamed copy, a
        notebook exported under another name) take the non-library frames and check
        their line text against the script."""
        if self.script is not None:
            self.by_name = any(_basename(f.path) == self.script.name for f in frames)

    def locate(self, frame: Frame) -> dict:
        loc = {"path": frame.path, "line": frame.line, "text": frame.text, "in_script": False, "note": ""}
        if self.script is None:
            return loc
        loc["path"] = str(self.script)
        loc["log_path"] = frame.path
        if self.cells:
            return self._locate_cell(frame, loc)
        if not self.lines:
            loc["note"] = "script not readable; line taken from the log"
            return loc
        loc.update(_find_line(self.lines, frame.line, frame.text.strip(), "this script"))
        return loc

    def _locate_cell(self, frame: Frame, loc: dict) -> dict:
        m = _CELL_FRAME.match(frame.path)
        count = int(m.group("n8") or m.group("n7")) if m else None
        want = frame.text.strip()
        cell = next((c for c in self.cells if c[1] is not None and c[1] == count), None)
        if cell is None or (want and not any(_same_code(s.strip(), want) for s in cell[2])):
            holding = [c for c in self.cells if want and any(_same_code(s.strip(), want) for s in c[2])]
            if len(holding) != 1:
                loc["note"] = f"no cell of this notebook ran as In[{count}] with that line: the log comes from another run"
                return loc
            cell = holding[0]
        loc["cell"] = cell[0]
        loc.update(_find_line(cell[2], frame.line, want, f"cell {cell[0]}"))
        return loc


def _find_line(lines: list[str], line: int, want: str, where: str) -> dict:
    """Where the log's line (number ``line``, text ``want``) is in ``lines``."""
    have = lines[line - 1].strip() if 0 < line <= len(lines) else None
    if not want or have == want or (have is not None and _same_code(have, want)):
        if have is not None:
            return {"text": have, "in_script": True}
        return {"note": f"{where} has only {len(lines)} lines: the log comes from another version"}
    hits = [n for n, s in enumerate(lines, 1) if s.strip() and _same_code(s.strip(), want)]
    if len(hits) == 1:
        return {"line": hits[0], "text": lines[hits[0] - 1].strip(), "in_script": True,
                "note": f"the log's line {line} is line {hits[0]} of {where}"}
    return {"note": f"line {line} of {where} differs from the log's ({want!r}): the log comes from another version"}


def _same_code(a: str, b: str) -> bool:
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    return squash(a) == squash(b)


def _primary(block: ErrorBlock, matcher: ScriptMatcher) -> tuple[Optional[Frame], list[Frame]]:
    """The script frame the error is best reported at, and the other script frames.

    MindSpore's own notes are the most precise: the graph note marked HERE, else the
    innermost graph note ('The Traceback of Net Construct Code' / analyze_fail.ir), else
    the innermost frame of a nested Python stack (a dataset worker), else the innermost
    script frame of the traceback."""
    inner = [f for f in block.inner if matcher.is_user(f)]
    outer = [f for f in block.frames if matcher.is_user(f)]
    marked = [f for f in inner if f.marked]
    graph = [f for f in inner if f.kind == "graph"]
    nested = [f for f in inner if f.kind in ("python", "at")]
    if marked:
        best = marked[0]
    elif graph:
        best = graph[-1]
    elif nested:
        best = nested[-1]
    elif outer:
        best = outer[-1]
    else:
        return None, []
    seen = {(best.path, best.line)}
    others = []
    for f in [*reversed(outer), *inner]:
        if (f.path, f.line) not in seen:
            seen.add((f.path, f.line))
            others.append(f)
    return best, others


# ---------------------------------------------------------------------------
# diagnosis


def diagnose_text(text: str, script: Optional[Path] = None, entries=None) -> list[Diagnosis]:
    entries = entries if entries is not None else load_patterns()
    matcher = ScriptMatcher(script)
    blocks, log_errors = parse_log(text)
    matcher.settle(f for b in [*blocks, *log_errors] for f in [*b.frames, *b.inner])
    found: list[Diagnosis] = []
    seen: set = set()

    def add(block: ErrorBlock, entry: dict) -> None:
        best, others = _primary(block, matcher)
        location = matcher.locate(best) if best else None
        key = (entry["id"], location["path"] if location else None, location["line"] if location else None)
        if key in seen or (location is None and any(d.id == entry["id"] for d in found)):
            return
        seen.add(key)
        first = next((ln for ln in block.message.splitlines() if ln.strip()), "")
        found.append(Diagnosis(
            id=entry["id"], rule=entry.get("rule"), title=entry.get("title", ""), cause=entry.get("cause", ""),
            fix=entry.get("fix", ""), devices=list(entry.get("devices", [])), exception=block.exception,
            message=(f"{block.exception}: {first.strip()}" if block.exception else first.strip()),
            log_line=block.log_line, location=location,
            frames=[_where(matcher.locate(f)) for f in others],
        ))

    # the exception raised last in a chain is the one the job died of: it comes first
    ordered = sorted(blocks, key=lambda b: (b.chain, -b.log_line))
    for block in ordered:
        entry = match_text(f"{block.exception}: {block.message}", entries)
        if entry is None:
            # an exception without a known pattern may still carry one in its sections
            entry = match_text(block.message, entries, log_line=True)
        if entry is not None:
            add(block, entry)
    heads = [ln.strip() for b in blocks for ln in b.message.splitlines()[:1] if len(ln.strip()) >= 20]
    for block in log_errors:
        if any(h in block.message for h in heads):
            continue  # MindSpore's [ERROR] line repeating an exception's message: the same error
        entry = match_text(block.message, entries, log_line=True)
        if entry is not None and not any(d.id == entry["id"] for d in found):
            add(block, entry)
    return found


def _where(loc: dict) -> str:
    if loc.get("cell"):
        return f"{loc['path']}:cell {loc['cell']}:{loc['line']}"
    return f"{loc['path']}:{loc['line']}"


def render_text(diagnoses: Iterable[Diagnosis], log_name: str, out=None) -> None:
    out = out or sys.stdout
    for d in diagnoses:
        where = _where(d.location) if d.location else f"{log_name}:{d.log_line}"
        rule = d.rule or "(no msfix rule)"
        out.write(f"{where}: {rule} {d.title} [{d.id}]\n")
        if d.location and d.location.get("text"):
            out.write(f"    {d.location['text']}\n")
        if d.location and d.location.get("note"):
            out.write(f"  note: {d.location['note']}\n")
        out.write(f"  error: {d.message}\n")
        out.write(f"  cause: {d.cause}\n")
        out.write(f"  fix: {d.fix}\n")
        if d.frames:
            out.write(f"  also in the traceback: {', '.join(d.frames[:6])}\n")
        if d.rule:
            out.write(f"  msfix rule {d.rule} covers this statically: run `msfix check` on the script\n")


def run(log: str, script: Optional[str] = None, output_format: str = "text", out=None, err=None) -> int:
    """The ``msfix diagnose`` command: returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if log == "-":
            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        else:
            data = Path(log).read_bytes()
    except OSError as exc:
        err.write(f"msfix diagnose: cannot read {log}: {exc.strerror or exc}\n")
        return EXIT_UNREADABLE
    if b"\x00" in data[:8192]:
        err.write(f"msfix diagnose: {log} is not a text log\n")
        return EXIT_UNREADABLE
    text = data.decode("utf-8", errors="replace")
    script_path = Path(script) if script else None
    if script_path is not None and not script_path.is_file():
        err.write(f"msfix diagnose: --script {script}: no such file\n")
        return EXIT_UNREADABLE
    log_name = "<stdin>" if log == "-" else log
    diagnoses = diagnose_text(text, script_path)
    if output_format == "json":
        out.write(json.dumps({"log": log_name, "script": script, "matched": bool(diagnoses),
                              "diagnoses": [d.to_dict() for d in diagnoses]}, indent=2) + "\n")
    elif diagnoses:
        render_text(diagnoses, log_name, out)
    else:
        blocks, _ = parse_log(text)
        what = f"{len(blocks)} exception(s)" if blocks else "no Python traceback"
        out.write(f"{log_name}: no known MindSpore error pattern found ({what} read)\n")
    return EXIT_MATCHED if diagnoses else EXIT_NO_MATCH
