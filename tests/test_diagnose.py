"""msfix diagnose and the shared runtime-error table (msfix/smoke/crash_map.json).

The messages are produced on the real MindSpore 2.10 CPU wheel: one subprocess runs
tools/runtime_error_repro.py (every case, in try/except) and one runs a small training
job; their paths are then rewritten to look like another machine's."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from msfix.cli import main
from msfix.diagnose import diagnose_text, match_text, parse_log
from msfix.rule import all_rules
from msfix.smoke.runner import OUTCOMES, load_crash_map, match_crash

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "msfix/smoke/crash_map.json"
REPRO = ROOT / "tools/runtime_error_repro.py"
JOB = ROOT / "tests/data/diagnose/train_uint32_labels.py"
ENTRIES = json.loads(TABLE.read_text(encoding="utf-8"))["entries"]
# the cases of the reproduction script, read without running it: {case: entry id}
CASES = dict(re.findall(r'^@case\("([\w-]+)", "([\w-]+)"\)', REPRO.read_text(encoding="utf-8"), re.M))
TESTED = [e["id"] for e in ENTRIES if "test" in e["evidence"]]
HAS_MINDSPORE = importlib.util.find_spec("mindspore") is not None
needs_wheel = pytest.mark.skipif(not HAS_MINDSPORE, reason="needs the MindSpore wheel (pip install 'msfix[smoke]')")

OTHER_SCRIPT = "/home/ma-user/work/train.py"
OTHER_SITE = "/usr/local/ma/python3.7/lib/python3.7/site-packages"


def _other_machine(text: str, script: Path) -> str:
    """The log as it would look on another machine (ModelArts-like paths)."""
    site = str(Path(importlib.util.find_spec("mindspore").origin).parents[1]) if HAS_MINDSPORE else "/nowhere"
    return text.replace(str(script), OTHER_SCRIPT).replace(site, OTHER_SITE)


@pytest.fixture(scope="module")
def wheel_messages(tmp_path_factory):
    """All reproduction cases, run once on the wheel (cwd: a temporary directory)."""
    cwd = tmp_path_factory.mktemp("repro")
    proc = subprocess.run([sys.executable, str(REPRO)], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "GLOG_v": "2"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def job_log(tmp_path_factory):
    """A whole job log (stdout + stderr, MindSpore's [WARNING]/[ERROR] lines included)."""
    cwd = tmp_path_factory.mktemp("job")
    proc = subprocess.run([sys.executable, str(JOB)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=600, env={**os.environ, "GLOG_v": "2"})
    assert proc.returncode != 0
    return _other_machine(proc.stdout, JOB)


# ---------------------------------------------------------------------------
# the table


def test_table_has_at_least_100_patterns_each_with_evidence():
    assert len(ENTRIES) >= 100
    ids = [e["id"] for e in ENTRIES]
    assert len(ids) == len(set(ids))
    codes = {r.code for r in all_rules()}
    for e in ENTRIES:
        assert {"id", "pattern", "exception", "title", "cause", "rule", "fix", "devices", "evidence"} <= set(e), e["id"]
        re.compile(e["pattern"])
        assert e["cause"].strip() and e["fix"].strip() and e["title"].strip(), e["id"]
        assert e["rule"] is None or e["rule"] in codes, e["id"]
        assert e["devices"] and set(e["devices"]) <= {"CPU", "GPU", "Ascend"}, e["id"]
        assert e.get("outcome", "crashed") in OUTCOMES
        ev = e["evidence"]
        assert ("test" in ev) != ("source" in ev), e["id"]
        if "source" in ev:
            assert ev["source"].strip() and ev["quote"].strip(), e["id"]
        if "CPU" not in e["devices"]:
            assert "source" in ev, e["id"]  # a GPU/Ascend-only message cannot be produced here


def test_every_test_evidence_names_an_existing_test():
    names = {name for name, obj in globals().items() if name.startswith("test_") and callable(obj)}
    for e in ENTRIES:
        ev = e["evidence"]
        if "test" not in ev:
            continue
        m = re.fullmatch(r"tests/test_diagnose\.py::(\w+)\[([\w-]+)\]", ev["test"])
        assert m, ev["test"]
        assert m.group(1) in names and m.group(1) == "test_message_reproduced_on_wheel"
        assert m.group(2) == e["id"] and e["id"] in CASES.values(), f"no reproduction case for {e['id']}"


def test_source_quotes_occur_where_they_say():
    wheel = Path(importlib.util.find_spec("mindspore").origin).parent if HAS_MINDSPORE else None
    ts_dir = os.environ.get("MSFIX_TROUBLESHOOTER_DIR")  # an unpacked troubleshooter==1.0.18 wheel
    if ts_dir is None and importlib.util.find_spec("troubleshooter") is not None:
        ts_dir = str(Path(importlib.util.find_spec("troubleshooter").origin).parents[1])
    checked = 0
    for e in ENTRIES:
        ev = e["evidence"]
        if "source" not in ev:
            continue
        src = ev["source"]
        if src.startswith("mindspore==2.10.0 wheel: mindspore/"):
            assert src.split(": mindspore/", 1)[1], e["id"]
            if wheel is None:
                continue
            data = (wheel / src.split(": mindspore/", 1)[1]).read_bytes()
            assert ev["quote"].encode() in data, f"{e['id']}: {ev['quote']!r} not in {src}"
            # and the quoted text is diagnosed as this entry (no earlier pattern takes it)
            first = match_crash(e["exception"], ev["quote"]) if e["exception"] else match_text(ev["quote"], log_line=True)
            assert first is not None and first["id"] == e["id"], e["id"]
            checked += 1
        else:
            m = re.fullmatch(r"troubleshooter==1\.0\.18 (troubleshooter/\S+\.py) \((\w+), 'Key Log Information'\)", src)
            assert m, f"{e['id']}: unknown source {src!r}"
            if ts_dir is None:
                continue
            logs = _troubleshooter_key_logs(Path(ts_dir) / m.group(1)).get(m.group(2), [])
            assert any(ev["quote"] in text for text in logs), f"{e['id']}: {ev['quote']!r} not in {src}"
            checked += 1
    if wheel is not None:
        assert checked >= 15


def _troubleshooter_key_logs(path: Path) -> dict:
    """{case ID: [its 'Key Log Information' strings]} of a TroubleShooter knowledge-base file."""
    import ast
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the knowledge base has invalid escapes in plain strings
        tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            d = {k.value: v.value for k, v in zip(node.keys, node.values)
                 if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)}
            if "ID" in d:
                found.setdefault(d["ID"], []).append(d.get("Key Log Information", ""))
    return found


@needs_wheel
@pytest.mark.parametrize("entry_id", TESTED)
def test_message_reproduced_on_wheel(entry_id, wheel_messages):
    """The wheel raised a message for this entry, and the table's first match is this entry
    (what smoke and diagnose both use)."""
    cases = [c for c, e in CASES.items() if e == entry_id]
    assert cases
    for case in cases:
        got = wheel_messages[case]
        assert got["type"], f"{case}: MindSpore raised nothing"
        entry = match_crash(got["type"], got["message"])
        assert entry is not None and entry["id"] == entry_id, (case, got["type"], got["message"][:300])
        assert entry["exception"] in (None, got["type"]), case


# ---------------------------------------------------------------------------
# diagnose over logs produced on the wheel, seen from another machine


@needs_wheel
@pytest.mark.parametrize("case", sorted(CASES))
def test_diagnose_names_the_script_line_and_rule(case, wheel_messages):
    got = wheel_messages[case]
    log = _other_machine(got["traceback"], REPRO)
    assert str(REPRO) not in log and OTHER_SCRIPT in log
    found = diagnose_text(log)
    assert found, case
    d = found[0]
    entry = next(e for e in ENTRIES if e["id"] == CASES[case])
    assert d.id == entry["id"] and d.rule == entry["rule"]
    assert d.location["path"] == OTHER_SCRIPT
    first, last = got["lines"]
    assert first <= d.location["line"] <= last, (case, d.location)
    source = REPRO.read_text(encoding="utf-8").splitlines()
    # the line named is the one the log shows; a plain traceback names the line that raised
    assert d.location["text"] == source[d.location["line"] - 1].strip() or not d.location["text"]
    if "In file" not in got["traceback"] and "Python Call Stack" not in got["traceback"]:
        assert d.location["line"] == got["line"]


@needs_wheel
def test_diagnose_with_script_checks_the_line_text(wheel_messages, tmp_path):
    got = wheel_messages["conv-uint8-input"]
    log = _other_machine(got["traceback"], REPRO)
    local = tmp_path / "train.py"
    local.write_text(REPRO.read_text(encoding="utf-8"), encoding="utf-8")
    (d,) = diagnose_text(log, local)
    assert d.location["path"] == str(local) and d.location["line"] == got["line"] and d.location["in_script"]
    assert d.rule == "MS203"
    # the script was edited since the job ran: the line is found by its text
    local.write_text("import os\n\n" + REPRO.read_text(encoding="utf-8"), encoding="utf-8")
    (d,) = diagnose_text(log, local)
    assert d.location["line"] == got["line"] + 2 and "is line" in d.location["note"]


@needs_wheel
def test_whole_job_log_names_script_line_and_rule(job_log, tmp_path):
    assert "[WARNING]" in job_log or "[ERROR]" in job_log  # MindSpore's own log lines are there
    job_line = next(n for n, s in enumerate(JOB.read_text().splitlines(), 1) if s.startswith("model.train("))
    for log in (job_log, "".join(f"[1,0]<stderr>:{ln}\n" for ln in job_log.splitlines())):
        found = diagnose_text(log)
        assert [d.id for d in found] == ["label-uint32"]
        assert found[0].rule == "MS204"
        assert (found[0].location["path"], found[0].location["line"]) == (OTHER_SCRIPT, job_line)
    local = tmp_path / "my_train.py"  # a renamed copy: matched by the line text
    local.write_text(JOB.read_text())
    (d,) = diagnose_text(job_log, local)
    assert d.location["path"] == str(local) and d.location["line"] == job_line and d.location["in_script"]


@needs_wheel
def test_two_jobs_interleaved_with_noise(wheel_messages):
    a = _other_machine(wheel_messages["checkpoint-not-exist"]["traceback"], REPRO)
    b = _other_machine(wheel_messages["dataset-generator-index-error"]["traceback"], REPRO)
    noise = ("[WARNING] ME(1234:281473,MainProcess):2024-05-01-10:00:00.000.000 [mindspore/train/model.py:1] x\n"
             "epoch: 1 step: 1, loss is 2.30\n")
    log = noise + "".join(f"[1,0]<stderr>:{ln}\n" for ln in a.splitlines()) + noise + \
        "".join(f"[1,1]<stderr>:{ln}\n" for ln in b.splitlines())
    found = diagnose_text(log)
    assert [d.id for d in found] == ["checkpoint-not-exist", "dataset-user-function-error"]
    assert found[0].rule == "MS501" and found[0].location["line"] == wheel_messages["checkpoint-not-exist"]["line"]
    # the dataset worker's own frame (the source's __getitem__), not the iterator call
    src = REPRO.read_text().splitlines()
    assert "[][i]" in src[found[1].location["line"] - 1]


# ---------------------------------------------------------------------------
# parsing without the wheel


ASCEND_LOG = """\
[INFO] RUNTIME(1234,python):2024-05-01-10:00:00.000.000 start
[ERROR] DEVICE(1234,ffff,python):2024-05-01-10:00:01.000.000 [mindspore/ccsrc/plugin/device/ascend/hal/device/ascend_memory_adapter.cc:140] MallocDynamicDevMem] Malloc device memory failed, free memory size is less than half of total memory size.
EI0002: The wait execution of the Notify register times out. Reason: The Notify register has not received the Notify record from remote rank [3].
Traceback (most recent call last):
  File "/home/ma-user/modelarts/user-job-dir/resnet/train.py", line 88, in <module>
    model.train(90, dataset, callbacks=cbs, dataset_sink_mode=True)
  File "/usr/local/python3.9/lib/python3.9/site-packages/mindspore/train/model.py", line 1090, in train
    self._train(epoch,
RuntimeError: Allocate continuous memory failed, device ptr list size: 2, size list size: 2

----------------------------------------------------
- C++ Call Stack: (For framework developers)
----------------------------------------------------
mindspore/ccsrc/runtime/graph_scheduler/graph_scheduler.cc:1020 Run
"""


def test_ascend_log_without_the_wheel():
    blocks, _ = parse_log(ASCEND_LOG)
    assert [b.exception for b in blocks] == ["RuntimeError"]
    found = diagnose_text(ASCEND_LOG)
    ids = [d.id for d in found]
    assert ids[0] == "device-oom-continuous"
    assert found[0].location["path"].endswith("resnet/train.py") and found[0].location["line"] == 88
    assert "device-oom" in ids and "hccl-notify-timeout" in ids  # from the log lines
    oom = next(d for d in found if d.id == "device-oom")
    assert oom.location is None and oom.log_line == 2


def test_graph_note_gives_the_construct_line_on_windows_paths():
    log = r"""
Traceback (most recent call last):
  File "D:\work\net.py", line 30, in <module>
    out = net(x)
  File "C:\Python39\lib\site-packages\mindspore\nn\cell.py", line 700, in __call__
    out = self.compile_and_run(*args)
TypeError: Cannot join the return values of different branches, perhaps you need to make them equal.
Type Join Failed: Abstract type AbstractTensor cannot join with AbstractScalar.

----------------------------------------------------
- The Traceback of Net Construct Code:
----------------------------------------------------
# 0 In file D:\work\net.py:21~24, 8~20
        if x.sum() > 0:
# 1 In file D:\work\net.py:24, 12~20
            y = 1
            ^~~~
"""
    (d,) = diagnose_text(log)
    assert d.id == "graph-type-join" and d.location["path"] == "D:\\work\\net.py"
    assert d.location["line"] == 24 and d.location["text"] == "y = 1"
    assert d.frames == ["D:\\work\\net.py:30", "D:\\work\\net.py:21"]


def test_analyze_fail_ir_notes():
    ir = """\
# ===============================================================================================
# The following shows the IR when the function graph evaluation fails to help locate the problem.
%0(CNode_12) = PrimFunc_Add(%para1_x, I64(1))
      : (<Tensor[Float32], (2)>, <Int64, NoShape>) -> (<null>)
      # In file /home/work/user/net.py:17, 15~24/        return x + self.w/
"""
    (d,) = diagnose_text(ir + "(See file '/home/work/rank_0/om/analyze_fail.ir' for more details.)\n")
    assert d.id == "graph-analyze-fail"
    assert (d.location["path"], d.location["line"]) == ("/home/work/user/net.py", 17)
    assert d.location["text"] == "return x + self.w"


def test_unmatched_and_unreadable(tmp_path):
    runner = CliRunner()
    plain = tmp_path / "plain.log"
    plain.write_text("Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n"
                     "KeyError: 'x'\n")
    r = runner.invoke(main, ["diagnose", str(plain)])
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1 and "no known" in r.output
    r = runner.invoke(main, ["diagnose", str(tmp_path / "missing.log")])
    assert r.exit_code == 2
    binary = tmp_path / "x.log"
    binary.write_bytes(b"\x00\x01\x02")
    assert runner.invoke(main, ["diagnose", str(binary)]).exit_code == 2


def test_cli_text_json_and_stdin(tmp_path):
    runner = CliRunner()
    log = tmp_path / "job.log"
    log.write_text(ASCEND_LOG)
    r = runner.invoke(main, ["diagnose", str(log)])
    assert r.exit_code == 0
    first = r.output.splitlines()[0]
    assert first.startswith("/home/ma-user/modelarts/user-job-dir/resnet/train.py:88: ")
    assert "fix:" in r.output and "cause:" in r.output
    r = runner.invoke(main, ["diagnose", "-", "--output-format", "json"], input=ASCEND_LOG)
    assert r.exit_code == 0
    data = json.loads(r.output)
    assert data["matched"] and data["diagnoses"][0]["id"] == "device-oom-continuous"
    assert data["diagnoses"][0]["location"]["line"] == 88


def test_smoke_and_diagnose_read_one_table():
    assert [e["id"] for e in load_crash_map()] == [e["id"] for e in ENTRIES]


# IPython 8 / 7 print tracebacks in their own layout (written here by hand in that layout,
# with the ANSI colours a saved notebook output keeps; the message is the wheel's).
IPYTHON8 = """\
\x1b[0;31m---------------------------------------------------------------------------\x1b[0m
\x1b[0;31mTypeError\x1b[0m                                 Traceback (most recent call last)
Cell \x1b[0;32mIn[7], line 4\x1b[0m
\x1b[1;32m      2\x1b[0m loss \x1b[38;5;241m=\x1b[39m nn\x1b[38;5;241m.\x1b[39mSoftmaxCrossEntropyWithLogits(sparse\x1b[38;5;241m=\x1b[39m\x1b[38;5;28;01mTrue\x1b[39;00m)
\x1b[1;32m      3\x1b[0m model \x1b[38;5;241m=\x1b[39m ms\x1b[38;5;241m.\x1b[39mModel(net, loss, opt)
\x1b[0;32m----> 4\x1b[0m model\x1b[38;5;241m.\x1b[39mtrain(\x1b[38;5;241m1\x1b[39m, data)

File \x1b[0;32m/usr/local/lib/python3.9/site-packages/mindspore/train/model.py:1090\x1b[0m, in \x1b[0;36mModel.train\x1b[0;34m(self, epoch, train_dataset)\x1b[0m
\x1b[1;32m   1089\x1b[0m     callbacks \x1b[38;5;241m=\x1b[39m [callbacks]
\x1b[0;32m-> 1090\x1b[0m \x1b[38;5;28mself\x1b[39m\x1b[38;5;241m.\x1b[39m_train(epoch, train_dataset)

\x1b[0;31mTypeError\x1b[0m: For primitive[SparseSoftmaxCrossEntropyWithLogits], the input argument[labels_type] must be a type of {Tensor[Int32], Tensor[Int64]}, but got Tensor[UInt32].
"""

IPYTHON7 = """\
---------------------------------------------------------------------------
ValueError                                Traceback (most recent call last)
<ipython-input-3-5b1f2c0a9d1e> in <module>
      1 from mindspore import nn
----> 2 conv = nn.Conv2d(3, 64, 3, padding=1)

~/anaconda3/envs/ms/lib/python3.7/site-packages/mindspore/nn/layer/conv.py in __init__(self, in_channels, out_channels)
    240                  data_format='NCHW'):
--> 241         super(Conv2d, self).__init__(

ValueError: For 'Conv2D', the 'pad' must be zero when 'pad_mode' is not 'pad', but got 'pad': 1 and 'pad_mode': same.
"""


def test_notebook_tracebacks():
    (d,) = diagnose_text(IPYTHON8)
    assert (d.id, d.rule) == ("label-uint32", "MS204")
    assert (d.location["path"], d.location["line"], d.location["text"]) == ("Cell In[7]", 4, "model.train(1, data)")
    (d,) = diagnose_text(IPYTHON7)
    assert (d.id, d.rule) == ("conv-pad-without-pad-mode", "MS304")
    assert d.location["path"].startswith("<ipython-input-3-") and d.location["line"] == 2


# MindSpore 1.x wrote graph notes as 'In file PATH(LINE)' under 'The function call stack'
# (layout of 1.x logs, written here by hand; the message is the 2.10 wheel's).
MS1X_LOG = """\
[ERROR] ANALYZER(3612,ffff9b1c0010,python):2022-08-01-10:00:00.000.000 [mindspore/ccsrc/pipeline/jit/static_analysis/async_eval_result.cc:66] HandleException] Exception happened, check the information as below.
Traceback (most recent call last):
  File "/home/ma-user/work/lenet/train.py", line 61, in <module>
    model.train(10, ds_train, callbacks=[LossMonitor()])
  File "/home/ma-user/anaconda3/envs/MindSpore/lib/python3.7/site-packages/mindspore/train/model.py", line 906, in train
    sink_size=sink_size)
ValueError: For 'MatMul' the input dimensions must be equal, but got 'x1_col': 400 and 'x2_row': 256.

The function call stack (See file '/home/ma-user/work/lenet/rank_0/om/analyze_fail.dat' for more details):
# 0 In file /home/ma-user/anaconda3/envs/MindSpore/lib/python3.7/site-packages/mindspore/nn/wrap/cell_wrapper.py(373)
        loss = self.network(*inputs)
               ^
# 1 In file /home/ma-user/work/lenet/train.py(35)
        x = self.fc1(x)
            ^
"""


def test_mindspore_1x_log():
    (d,) = diagnose_text(MS1X_LOG)
    assert d.id == "matmul-dims"
    assert (d.location["path"], d.location["line"]) == ("/home/ma-user/work/lenet/train.py", 35)
    assert d.location["text"] == "x = self.fc1(x)"
    assert "/home/ma-user/work/lenet/train.py:61" in d.frames


@pytest.mark.parametrize("path,library", [
    ("/usr/local/python3.7.5/lib/python3.7/site-packages/mindspore/nn/cell.py", True),
    ("/home/ma-user/anaconda3/envs/MindSpore/lib/python3.7/runpy.py", True),
    ("C:\\Users\\me\\AppData\\Local\\Programs\\Python\\Python39\\lib\\runpy.py", True),
    ("<frozen runpy>", True),
    ("mindspore/ccsrc/pipeline/jit/parse/parse.cc", True),
    ("/home/ma-user/work/train.py", False),
    ("D:\\work\\net.py", False),
    ("<ipython-input-3-5b1f2c0a9d1e>", False),
    ("/cache/user-job-dir/src/lib/models/resnet.py", False),  # a 'lib' folder of the project
])
def test_library_frames_are_not_the_script(path, library):
    from msfix.diagnose import _is_library

    assert _is_library(path) is library


def test_notebook_script_maps_cell_frames_to_cells(tmp_path):
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Train\n"]},
        {"cell_type": "code", "execution_count": 6, "metadata": {}, "outputs": [],
         "source": ["net = Net()\n", "opt = nn.Momentum(net.trainable_params(), 0.01, 0.9)"]},
        {"cell_type": "code", "execution_count": 7, "metadata": {}, "outputs": [],
         "source": ["model = ms.Model(net, loss, opt)\n", "\n", "\n", "model.train(1, data)\n"]},
    ]
    nb = tmp_path / "train.ipynb"
    nb.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (d,) = diagnose_text(IPYTHON8, nb)
    assert (d.location["cell"], d.location["line"], d.location["in_script"]) == (3, 4, True)
    r = CliRunner().invoke(main, ["diagnose", "-", "--script", str(nb)], input=IPYTHON8)
    assert r.exit_code == 0 and r.output.startswith(f"{nb}:cell 3:4: MS204 ")
    # run again since: In[7] is now another cell; the line is found by its text
    cells[2]["execution_count"], cells[1]["execution_count"] = 12, 7
    nb.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (d,) = diagnose_text(IPYTHON8, nb)
    assert (d.location["cell"], d.location["line"]) == (3, 4)
