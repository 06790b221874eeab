"""The bootstrap's device selection on a MindSpore without `set_device` (before 2.5):
it must fall back to `set_context(device_target=...)` and keep the script's own device
requests from overriding it. Uses a stand-in `mindspore` module, since only 2.10 is
installed here; the `set_device` path runs on the real wheel in tests/test_smoke.py."""

import importlib.util
import sys
import types
from pathlib import Path

BOOT = Path(__file__).resolve().parent.parent / "msfix" / "smoke" / "bootstrap" / "_msfix_smoke_boot.py"


def _boot(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("_msfix_smoke_boot_test", BOOT)
    boot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(boot)
    script = tmp_path / "s.py"
    script.write_text("")
    boot._STATE = boot._State({"result_path": str(tmp_path / "r.json"), "script": str(script),
                               "workdir": str(tmp_path), "data_dir": str(tmp_path), "steps": 3, "epochs": 1,
                               "device": "Ascend"})
    return boot


def test_old_mindspore_uses_set_context_and_ignores_the_scripts_device(tmp_path, monkeypatch):
    boot = _boot(tmp_path, monkeypatch)
    calls = []
    fake = types.ModuleType("mindspore")
    fake.set_context = lambda **kw: calls.append(kw)
    monkeypatch.setitem(sys.modules, "mindspore", fake)
    boot._install_device(fake)
    assert calls == [{"device_target": "Ascend"}]
    assert boot._STATE.result["device"]["call"] == "mindspore.set_context(device_target='Ascend')"
    # the script's own request is recorded, not applied; other keys still go through
    fake.set_context(device_target="GPU", mode=0)
    assert calls == [{"device_target": "Ascend"}, {"mode": 0}]
    assert boot._STATE.result["device"]["script_requests"] == [{"call": "set_context", "device_target": "GPU"}]


def test_new_mindspore_uses_set_device(tmp_path, monkeypatch):
    boot = _boot(tmp_path, monkeypatch)
    calls = []
    fake = types.ModuleType("mindspore")
    fake.set_context = lambda **kw: calls.append(("set_context", kw))
    fake.set_device = lambda target, device_id=None: calls.append(("set_device", target))
    monkeypatch.setitem(sys.modules, "mindspore", fake)
    boot._install_device(fake)
    assert calls == [("set_device", "Ascend")]
    fake.set_device("CPU")
    assert calls == [("set_device", "Ascend")]
    assert boot._STATE.result["device"]["script_requests"][0]["device_target"] == "CPU"
