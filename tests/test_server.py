"""`msfix server`: a scripted LSP client talking JSON-RPC over the stdio of a real
`msfix server` subprocess."""

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("pygls")

BAD = ("import mindspore.dataset as ds\n"
       "from mindspore.train.callback import LossMonitor\n"
       "d = ds.MnistDataset('m', num_parallel_workers=16)\n")
TIMEOUT = 60


class Client:
    def __init__(self, cwd: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "msfix", "server"], cwd=cwd,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.inbox: "queue.Queue[dict]" = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.decode("ascii").strip()
                if not line:
                    break
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
            body = out.read(int(headers["content-length"]))
            self.inbox.put(json.loads(body))

    def send(self, msg: dict):
        data = json.dumps({"jsonrpc": "2.0", **msg}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()

    def request(self, method, params):
        self.next_id += 1
        rid = self.next_id
        self.send({"id": rid, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == rid and "method" not in m)

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def wait(self, pred):
        while True:
            try:
                msg = self.inbox.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError("no answer from the server: " + self.proc.stderr.read1().decode()
                                     if self.proc.poll() is not None else "no answer from the server")
            if msg.get("method") == "window/logMessage":
                continue
            if pred(msg):
                return msg

    def diagnostics(self, uri):
        msg = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                        and m["params"]["uri"] == uri)
        return msg["params"]["diagnostics"]

    def close(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def apply(text: str, edits) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def off(p):
        return starts[p["line"]] + p["character"]

    for e in sorted(edits, key=lambda e: off(e["range"]["start"]), reverse=True):
        text = text[:off(e["range"]["start"])] + e["newText"] + text[off(e["range"]["end"]):]
    return text


@pytest.fixture
def client(tmp_path):
    c = Client(tmp_path)
    init = c.request("initialize", {"processId": os.getpid(), "rootUri": tmp_path.as_uri(),
                                    "capabilities": {}})
    caps = init["result"]["capabilities"]
    assert init["result"]["serverInfo"]["name"] == "msfix"
    assert caps["codeActionProvider"]
    c.notify("initialized", {})
    yield c
    c.close()


def test_diagnostics_on_open_change_save_and_code_actions(client, tmp_path):
    f = tmp_path / "train.py"
    f.write_text(BAD)
    uri = f.as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                            "text": BAD}})
    diags = client.diagnostics(uri)
    assert [(d["code"], d["range"]["start"]["line"], d["severity"]) for d in diags] == [
        ("MS102", 1, 2), ("MS202", 2, 1)]
    ms202 = diags[1]
    assert ms202["source"] == "msfix" and "num_parallel_workers=16" in ms202["message"]
    assert ms202["codeDescription"]["href"].endswith("docs/rules/MS202.md")
    assert ms202["range"]["start"]["character"] == BAD.splitlines()[2].index("16")

    # a quick fix for the diagnostic under the cursor
    res = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": ms202["range"], "context": {"diagnostics": [ms202]}})
    actions = res["result"]
    quick = [a for a in actions if a["kind"] == "quickfix"]
    assert [a["title"].split(":")[0] for a in quick] == ["MS202"]
    fixed = apply(BAD, quick[0]["edit"]["changes"][uri])
    assert "num_parallel_workers=min(16, os.cpu_count() or 1)" in fixed and "import os\n" in fixed
    fix_all = [a for a in actions if a["kind"] == "source.fixAll.msfix"]
    assert len(fix_all) == 1
    everything = apply(BAD, fix_all[0]["edit"]["changes"][uri])
    assert "from mindspore.train import LossMonitor" in everything and "min(16" in everything

    # the editor applies the fix: the diagnostics follow the change
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": everything}]})
    assert client.diagnostics(uri) == []
    # and a save re-checks (here: the file on disk is saved with a new defect)
    broken = everything + "e = ds.MnistDataset('n', usage='test', num_parallel_workers=64)\n"
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": broken}]})
    assert [d["code"] for d in client.diagnostics(uri)] == ["MS202"]
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    assert [d["range"]["start"]["line"] for d in client.diagnostics(uri)] == [everything.count("\n")]


def test_syntax_error_and_config(client, tmp_path):
    (tmp_path / "msfix.toml").write_text('ignore = ["MS102"]\n')
    f = tmp_path / "t.py"
    uri = f.as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                            "text": BAD}})
    assert [d["code"] for d in client.diagnostics(uri)] == ["MS202"]  # msfix.toml honoured
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": "import mindspore\nx = (\n"}]})
    [d] = client.diagnostics(uri)
    assert "syntax error" in d["message"] and d["severity"] == 1


def test_server_and_cli_agree_on_the_config_of_a_nested_file(client, tmp_path):
    """Both look the configuration up per file through msfix.config.settings_for: the
    nearest msfix.toml / pyproject.toml [tool.msfix], `extend` included."""
    from click.testing import CliRunner

    from msfix.cli import main

    (tmp_path / "pyproject.toml").write_text('[tool.msfix]\nignore = ["MS102"]\n')
    nested = tmp_path / "pkg" / "sub"
    nested.mkdir(parents=True)
    (nested / "msfix.toml").write_text('extend = "../../pyproject.toml"\nignore = ["MS202"]\n')
    top, deep = tmp_path / "top.py", nested / "deep.py"
    for f in (top, deep):
        f.write_text(BAD)
    old = os.getcwd()
    try:
        os.chdir(tmp_path)
        cli = {f: sorted(d["code"] for d in json.loads(CliRunner().invoke(
            main, ["check", "--output-format", "json", "top.py", str(deep.relative_to(tmp_path))]).output)
            if d["file"].endswith(f.name)) for f in (top, deep)}
    finally:
        os.chdir(old)
    assert cli == {top: ["MS202"], deep: ["MS102"]}
    for f in (top, deep):
        uri = f.as_uri()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                                "text": BAD}})
        assert sorted(d["code"] for d in client.diagnostics(uri)) == cli[f]
    # an editor buffer not saved yet in the nested directory gets the nested configuration too
    uri = (nested / "unsaved.py").as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                            "text": BAD}})
    assert sorted(d["code"] for d in client.diagnostics(uri)) == ["MS102"]
