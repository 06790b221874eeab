"""Jupyter notebooks: code cells checked as one script, magics left alone, positions
as cell:line:col, fixes written back into the cells with the rest of the JSON kept
byte for byte."""

import json
import os

from click.testing import CliRunner

from msfix.cli import main
from msfix.notebook import Notebook

CELLS = [
    {"cell_type": "markdown", "metadata": {}, "source": ["# MNIST with MindSpore\n", "Train a small net."]},
    {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [
        {"name": "stdout", "output_type": "stream", "text": ["Requirement already satisfied: mindspore\n"]}],
     "source": ["!pip install mindspore==2.10.0\n", "%matplotlib inline"]},
    {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [],
     "source": ["import os\n", "import mindspore as ms\n", "import mindspore.dataset as ds\n",
                "from mindspore import nn"]},
    {"cell_type": "code", "execution_count": 3, "metadata": {"collapsed": False}, "outputs": [],
     "source": ["files = !ls ./MNIST\n",
                "train = ds.MnistDataset(\"./MNIST/train\", num_parallel_workers=16)  # données\n",
                "%time n = train.get_dataset_size()\n",
                "for i in range(2):\n",
                "    %time n = train.get_dataset_size()\n",
                "train.get_dataset_size?"]},
    {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
     "source": ["%%bash\n", "echo ds.MnistDataset(num_parallel_workers=64)"]},
    {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
     "source": "net = nn.Dense(784, 10)\nprint(net, files, os.getcwd())\n"},
]
META = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.10.0"}}


def notebook(tmp_path, cells=CELLS, indent=1, ensure_ascii=False, name="mnist.ipynb"):
    nb = {"cells": cells, "metadata": META, "nbformat": 4, "nbformat_minor": 5}
    p = tmp_path / name
    p.write_text(json.dumps(nb, indent=indent, ensure_ascii=ensure_ascii) + "\n", encoding="utf-8")
    return p


def run(*args, cwd):
    old = os.getcwd()
    try:
        os.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def test_check_reports_cell_and_line(tmp_path):
    notebook(tmp_path)
    r = run("check", "--select", "MS202", "mnist.ipynb", cwd=tmp_path)
    assert r.exit_code == 1, r.output
    # cell 4 (counting the markdown cell), line 2; the %%bash cell is not Python
    assert r.output.startswith("mnist.ipynb:cell 4:2:63: MS202 [*] `num_parallel_workers=16`")
    assert "64" not in r.output
    assert '2 | train = ds.MnistDataset("./MNIST/train", num_parallel_workers=16)' in r.output
    r = run("check", "--select", "MS202", "--output-format", "json", "mnist.ipynb", cwd=tmp_path)
    [d] = json.loads(r.output)
    assert (d["cell"], d["line"], d["column"]) == (4, 2, 63)


def test_directories_include_notebooks(tmp_path):
    notebook(tmp_path)
    (tmp_path / "notes.txt").write_text("ds.MnistDataset(num_parallel_workers=16)")
    r = run("check", "--select", "MS202", "--output-format", "concise", ".", cwd=tmp_path)
    assert r.exit_code == 1
    assert [x.split(":")[0] for x in r.output.splitlines()[:-2]] == ["mnist.ipynb"]


def test_fix_writes_cells_back_and_keeps_the_rest_byte_for_byte(tmp_path):
    p = notebook(tmp_path)
    before = p.read_text(encoding="utf-8")
    r = run("fix", "--write", "--select", "MS202", "mnist.ipynb", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    after = p.read_text(encoding="utf-8")
    assert after == before.replace("num_parallel_workers=16)", "num_parallel_workers=min(16, os.cpu_count() or 1))")
    assert "!pip install" in after and '"%time n = train.get_dataset_size()\\n"' in after
    r = run("check", "--select", "MS202", "mnist.ipynb", cwd=tmp_path)
    assert r.exit_code == 0


def test_fix_diff_is_per_cell(tmp_path):
    notebook(tmp_path)
    r = run("fix", "--select", "MS202", "mnist.ipynb", cwd=tmp_path)
    assert "--- a/mnist.ipynb:cell 4\n+++ b/mnist.ipynb:cell 4\n" in r.output
    assert '+train = ds.MnistDataset("./MNIST/train", num_parallel_workers=min(16, os.cpu_count() or 1))' in r.output


def test_fix_adding_an_import_keeps_other_formatting(tmp_path):
    cells = [dict(c) for c in CELLS]
    cells[2] = dict(cells[2], source=["import mindspore as ms\n", "import mindspore.dataset as ds\n",
                                      "from mindspore import nn"])
    p = notebook(tmp_path, cells=cells, indent=2, ensure_ascii=True)
    before = p.read_text(encoding="utf-8")
    assert "\\u00e9" in before
    r = run("fix", "--write", "--select", "MS202", "mnist.ipynb", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    after = p.read_text(encoding="utf-8")
    data = json.loads(after)
    assert data["cells"][2]["source"] == ["import mindspore as ms\n", "import mindspore.dataset as ds\n",
                                          "from mindspore import nn\n", "import os"]
    assert "\\u00e9" in after and "é" not in after  # escaping kept
    # every other cell and key unchanged
    old = json.loads(before)
    for i in (0, 1, 4, 5):
        assert data["cells"][i] == old["cells"][i]
    assert list(data) == list(old) and data["metadata"] == old["metadata"]
    assert after.splitlines()[1] == before.splitlines()[1]  # indentation of 2 kept


def test_syntax_error_names_the_cell(tmp_path):
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["import mindspore\n"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["x = (1,\n", "y = 2\n"]}]
    notebook(tmp_path, cells=cells)
    r = run("check", "mnist.ipynb", cwd=tmp_path)
    assert r.exit_code == 2
    assert "mnist.ipynb: cell 2:1:5: syntax error: '(' was never closed" in r.output
    assert "All checks passed" not in r.output  # the bad cell was not checked


def test_add_noqa_in_a_notebook(tmp_path):
    p = notebook(tmp_path)
    r = run("check", "--add-noqa", "--select", "MS0,MS202", "mnist.ipynb", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    src = json.loads(p.read_text(encoding="utf-8"))["cells"][3]["source"]
    assert src[1].endswith("# données  # noqa: MS202\n")
    assert src[0] == "files = !ls ./MNIST\n"
    assert run("check", "--select", "MS0,MS202", "mnist.ipynb", cwd=tmp_path).exit_code == 0


def test_other_languages_and_string_sources():
    r_nb = json.dumps({"cells": [{"cell_type": "code", "source": "library(x)"}],
                       "metadata": {"language_info": {"name": "R"}}, "nbformat": 4})
    assert Notebook.parse(r_nb).cells == []
    raw = json.dumps({"cells": [{"cell_type": "code", "source": "import mindspore\nx = 1"},
                                {"cell_type": "code", "source": []}], "nbformat": 4}, indent=1)
    nb = Notebook.parse(raw)
    out = nb.render({0: "import mindspore\nx = 2", 1: "y = 3\n"})
    data = json.loads(out)
    assert data["cells"][0]["source"] == "import mindspore\nx = 2"
    assert data["cells"][1]["source"] == ["y = 3\n"]
    assert '   "source": [\n    "y = 3\\n"\n   ]' in out


def test_a_fix_that_would_lose_a_magic_is_not_written(tmp_path, monkeypatch):
    import msfix.notebook as nbmod

    p = notebook(tmp_path)
    before = p.read_bytes()
    real = nbmod.fix_text

    def greedy(text, *a, **kw):  # a fix that rewrites the magic placeholders away
        fixed, out, applied, err = real(text, *a, **kw)
        return nbmod._MAGIC_MARK.sub("", fixed), out, applied, err

    monkeypatch.setattr(nbmod, "fix_text", greedy)
    r = run("fix", "--write", "--select", "MS202", "mnist.ipynb", cwd=tmp_path)
    assert r.exit_code == 2 and "touched an IPython magic line" in r.output
    assert p.read_bytes() == before
