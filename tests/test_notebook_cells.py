"""Notebook cells as Jupyter runs them: each cell compiled alone (a cell that does not
parse fails alone, the others are still checked), IPython's leading-indent cleanup,
magics; positions always name the cell as written."""

import json
import os

from click.testing import CliRunner

from msfix.cli import main

META = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}


def code(*lines):
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": list(lines)}


def notebook(tmp_path, cells, name="nb.ipynb"):
    p = tmp_path / name
    p.write_text(json.dumps({"cells": cells, "metadata": META, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n",
                 encoding="utf-8")
    return p


def run(*args, cwd):
    old = os.getcwd()
    try:
        os.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


BAD_CELL = code("# the project tree, pasted as code\n", "|--- data/\n", "    |--- train/\n")
CELLS = [
    {"cell_type": "markdown", "metadata": {}, "source": ["# Training\n"]},
    code("!pip install mindspore\n", "import mindspore.dataset as ds\n", "from mindspore import nn\n"),
    BAD_CELL,
    code("%%time\n", "train = ds.MnistDataset('./MNIST/train', num_parallel_workers=64)\n"),
]


def test_a_cell_that_does_not_parse_fails_alone_and_the_others_are_checked(tmp_path):
    notebook(tmp_path, CELLS)
    r = run("check", "--select", "MS202", "nb.ipynb", cwd=tmp_path)
    assert r.exit_code == 2, r.output
    # the defect in cell 4 (after the bad cell 3) is reported, at the right cell and line
    assert "nb.ipynb:cell 4:2:63: MS202" in r.stdout
    assert "2 | train = ds.MnistDataset('./MNIST/train', num_parallel_workers=64)" in r.stdout
    [err] = [x for x in r.stderr.splitlines() if "syntax error" in x]
    assert err.startswith("msfix: error: nb.ipynb: cell 3:2:1: syntax error: ")
    assert "All checks passed" not in r.stdout
    r = run("check", "--select", "MS202", "--output-format", "json", "nb.ipynb", cwd=tmp_path)
    assert r.exit_code == 2
    [d] = json.loads(r.stdout)
    assert (d["code"], d["cell"], d["line"], d["column"]) == ("MS202", 4, 2, 63)


def test_names_a_bad_cell_would_define_are_not_reported_as_undefined(tmp_path):
    net_cell = code("net = nn.Dense(4, 2)\n")
    opt_cell = code("opt = nn.Momentum(net.trainable_params(), 0.1, 0.9)\n")
    notebook(tmp_path, [CELLS[1], net_cell, opt_cell], name="good.ipynb")
    broken = code("net = nn.Dense(4, 2)\n", "print(net\n")  # defines `net`, but does not parse
    notebook(tmp_path, [CELLS[1], broken, opt_cell], name="broken.ipynb")
    notebook(tmp_path, [CELLS[1], opt_cell], name="missing.ipynb")
    assert run("check", "--select", "MS401", "good.ipynb", cwd=tmp_path).exit_code == 0
    assert "MS401" in run("check", "--select", "MS401", "missing.ipynb", cwd=tmp_path).stdout
    r = run("check", "--select", "MS401", "broken.ipynb", cwd=tmp_path)
    assert r.exit_code == 2 and "MS401" not in r.stdout, r.output
    assert "broken.ipynb: cell 2:2:6: syntax error: '(' was never closed" in r.stderr


def test_fix_leaves_a_notebook_with_a_bad_cell_unchanged_and_reports_the_rest(tmp_path):
    p = notebook(tmp_path, CELLS)
    before = p.read_bytes()
    r = run("fix", "--write", "--select", "MS202", "nb.ipynb", cwd=tmp_path)
    assert r.exit_code == 2, r.output
    assert p.read_bytes() == before
    assert "nb.ipynb:cell 4:2:63: MS202" in r.stdout
    assert "cell 3:2:1: syntax error" in r.stderr and "notebook not fixed" in r.stderr


def test_a_cell_whose_first_line_is_indented_is_accepted_as_ipython_does(tmp_path):
    # IPython's leading_indent removes the first line's indentation from the lines
    # that start with it; a line with less indentation is kept as it is
    cell = code("  import mindspore.dataset as ds\n", "  \n",
                "  train = ds.MnistDataset('./MNIST/train', num_parallel_workers=64)\n",
                "  for row in train:\n", "      print(row)\n", "n = 1\n")
    p = notebook(tmp_path, [CELLS[0], cell])
    r = run("check", "--select", "MS202", "nb.ipynb", cwd=tmp_path)
    assert r.exit_code == 1, r.output  # found, not a syntax error
    assert r.stdout.startswith("nb.ipynb:cell 2:3:65: MS202")  # the column as written, spaces included
    assert "  train = ds.MnistDataset('./MNIST/train', num_parallel_workers=64)\n  |" in r.stdout
    assert "  | " + " " * 64 + "^^\n" in r.stdout
    r = run("fix", "--write", "--select", "MS202", "nb.ipynb", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    src = json.loads(p.read_text(encoding="utf-8"))["cells"][1]["source"]
    # the fix adds `import os` to the imports and rewrites line 3; the cell keeps its indentation
    assert src == ["  import mindspore.dataset as ds\n", "  import os\n", "  \n",
                   "  train = ds.MnistDataset('./MNIST/train', num_parallel_workers=min(64, os.cpu_count() or 1))\n",
                   "  for row in train:\n", "      print(row)\n", "n = 1\n"]
    assert run("check", "--select", "MS202", "nb.ipynb", cwd=tmp_path).exit_code == 0


def test_an_indented_cell_that_ipython_rejects_is_still_an_error(tmp_path):
    cell = code("  x = 1\n", "    y = 2\n")  # IPython leaves `  y = 2`: unexpected indent
    notebook(tmp_path, [code("import mindspore\n"), cell])
    r = run("check", "nb.ipynb", cwd=tmp_path)
    assert r.exit_code == 2
    # CPython puts an unexpected indent at the indentation's last column (2 in `  y = 2`);
    # the 2 columns IPython removed are counted back
    assert "nb.ipynb: cell 2:2:4: syntax error: unexpected indent" in r.stderr


def test_a_statement_cannot_run_on_from_one_cell_into_the_next(tmp_path):
    # joined, `x = (1,` + `2)` would parse; Jupyter compiles each cell alone and both fail
    notebook(tmp_path, [CELLS[1], code("x = (1,\n"), code("2)\n"), CELLS[3]])
    r = run("check", "--select", "MS202", "nb.ipynb", cwd=tmp_path)
    assert r.exit_code == 2, r.output
    assert "nb.ipynb:cell 4:2:63: MS202" in r.stdout
    [err] = r.stderr.splitlines()
    assert err.startswith("msfix: error: nb.ipynb: cell 2:1:5: syntax error: '(' was never closed; "
                          "cell 3:1:2: syntax error: ")
    assert err.endswith("(cells left out; the other cells were checked)")
