"""Values in the script model (msfix/analysis/values.py): argparse defaults, config
records, module constants, and the origin a message can name."""

import argparse
import types

import libcst as cst
import pytest
from values_helpers import _model, value

from msfix.analysis.builder import build_model
from msfix.analysis.model import UNKNOWN
from msfix.analysis.values import origin_of
from msfix.engine import lint_text
from msfix.rule import rule_by_code


def origin(src: str, expr: str):
    m, b = _model(src, expr)
    return origin_of(m, b.value, m.module_scope, b.order)


def _real_argparse(src: str, expr: str):
    """What Python's argparse itself gives for the same parser with no command-line
    arguments (the script's parser code only: argparse and literals)."""
    ns = {"argparse": argparse}
    exec(compile(src.replace("parse_args()", "parse_args([])").replace("parse_known_args()", "parse_known_args([])"),
                 "<parser>", "exec"), ns)
    return eval(expr, ns)


PARSER = "import argparse\nparser = argparse.ArgumentParser()\n"

ARGPARSE_CASES = [
    # (add_argument lines, parse line, expression)
    ("parser.add_argument('--workers', type=int, default='12')\n", "args = parser.parse_args()\n", "args.workers"),
    ("parser.add_argument('--lr', type=float, default='0.5')\n", "args = parser.parse_args()\n", "args.lr"),
    ("parser.add_argument('--lr', type=int, default=0.5)\n", "args = parser.parse_args()\n", "args.lr"),
    ("parser.add_argument('--name', type=str, default=12)\n", "args = parser.parse_args()\n", "args.name"),
    ("parser.add_argument('-n', '--num-workers', type=int, default=8)\n",
     "args = parser.parse_args()\n", "args.num_workers"),
    ("parser.add_argument('-w', type=int, default=3)\n", "args = parser.parse_args()\n", "args.w"),
    ("parser.add_argument('--workers', dest='nw', type=int, default=6)\n", "args = parser.parse_args()\n",
     "args.nw"),
    ("parser.add_argument('--workers', type=int, default=6)\n", "args = parser.parse_known_args()[0]\n",
     "args.workers"),
    ("parser.add_argument('--workers', type=int, default=6)\n", "args, _ = parser.parse_known_args()\n",
     "args.workers"),
    ("parser.add_argument('--workers', type=int, default=6)\n", "args = parser.parse_args()\n",
     "vars(args)['workers']"),
    ("parser.add_argument('--fast', action='store_true')\n", "args = parser.parse_args()\n", "args.fast"),
    ("parser.add_argument('--slow', action='store_false')\n", "args = parser.parse_args()\n", "args.slow"),
    ("parser.add_argument('--ckpt')\n", "args = parser.parse_args()\n", "args.ckpt"),
    ("g = parser.add_argument_group('data')\ng.add_argument('--workers', type=int, default=7)\n",
     "args = parser.parse_args()\n", "args.workers"),
]


@pytest.mark.parametrize("adds,parse,expr", ARGPARSE_CASES)
def test_argparse_default_matches_argparse(adds, parse, expr):
    src = PARSER + adds + parse
    expected = _real_argparse(src, expr)
    got = value(src, expr)
    assert got == expected and type(got) is type(expected)


def test_argparse_type_int_on_string_default_is_an_int():
    src = PARSER + "parser.add_argument('--workers', type=int, default='12')\nargs = parser.parse_args()\n"
    assert value(src, "args.workers") == 12 and isinstance(value(src, "args.workers"), int)


def test_argparse_parse_args_with_empty_list_reads_defaults():
    src = PARSER + "parser.add_argument('--workers', default=5)\nargs = parser.parse_args(args=[])\n"
    assert value(src, "args.workers") == 5


def test_argparse_in_a_function_that_returns_the_namespace():
    src = ("import argparse\ndef get_args():\n    p = argparse.ArgumentParser()\n"
           "    p.add_argument('--workers', type=int, default=9)\n    return p.parse_args()\nargs = get_args()\n")
    assert value(src, "args.workers") == 9


@pytest.mark.parametrize("adds,parse,expr", [
    # the whole tuple, not the namespace
    ("parser.add_argument('--w', default=3)\n", "args = parser.parse_known_args()\n", "args.w"),
    # command-line values
    ("parser.add_argument('--w', default=3)\n", "args = parser.parse_args(['--w', '5'])\n", "args.w"),
    ("parser.add_argument('--w', type=int, required=True, default=3)\n", "args = parser.parse_args()\n", "args.w"),
    ("parser.add_argument('w', type=int, nargs='?', default=3)\n", "args = parser.parse_args()\n", "args.w"),
    # set_defaults with arguments msfix does not read, subparsers, other code holding the parser
    ("parser.add_argument('--w', default=3)\nparser.set_defaults(**extra)\n", "args = parser.parse_args()\n",
     "args.w"),
    ("parser.add_argument('--w', default=3)\nparser.set_defaults(w=4)\n", "args = parser.parse_args()\n",
     "args.w"),
    ("parser.add_argument('--w', default=3)\nsub = parser.add_subparsers()\n", "args = parser.parse_args()\n",
     "args.w"),
    ("parser.add_argument('--w', default=3)\nadd_model_args(parser)\n", "args = parser.parse_args()\n", "args.w"),
    # a conversion msfix does not run, a default that is not a literal
    ("parser.add_argument('--w', type=lambda s: int(s) * 2, default='3')\n", "args = parser.parse_args()\n",
     "args.w"),
    ("parser.add_argument('--w', type=int, default=os.cpu_count())\n", "args = parser.parse_args()\n", "args.w"),
    # the same dest twice, a dest never added
    ("parser.add_argument('--w', default=3)\nparser.add_argument('--other', dest='w', default=4)\n",
     "args = parser.parse_args()\n", "args.w"),
    ("parser.add_argument('--w', default=3)\n", "args = parser.parse_args()\n", "args.missing"),
    # changed after parsing
    ("parser.add_argument('--w', default=3)\n", "args = parser.parse_args()\nargs.w = compute()\n", "args.w"),
    ("parser.add_argument('--w', default=3)\n", "args = parser.parse_args()\nsetattr(args, 'w', 5)\n", "args.w"),
    ("parser.add_argument('--w', default=3)\n", "args = parser.parse_args()\nvars(args).update(cfg)\n", "args.w"),
    ("parser.add_argument('--w', default=3)\n",
     "args = parser.parse_args()\ndef tweak(o):\n    o.w = 8\ntweak(args)\n", "args.w"),
])
def test_argparse_unknown(adds, parse, expr):
    assert value(PARSER + adds + parse, expr) is UNKNOWN


def test_argparse_origin_names_the_default_and_its_line():
    src = ("import argparse\nimport mindspore.dataset as ds\nparser = argparse.ArgumentParser()\n"
           "parser.add_argument('--workers', type=int, default='12')\nargs = parser.parse_args()\n"
           "d = ds.Cifar10Dataset('c', num_parallel_workers=args.workers)\n")
    out = lint_text(src, [rule_by_code("MS202")], path="t.py")
    assert [d.span.line for d in out.diagnostics] == [6]
    assert "`args.workers` (argparse default 12, line 4)" in out.diagnostics[0].message


# --------------------------------------------------------------------------- config records
@pytest.mark.parametrize("src,expr,expected", [
    ("config = {'momentum': 1.5, 'lr': 0.1}", "config['momentum']", 1.5),
    ("config = {'opt': {'momentum': 0.8}}", "config['opt']['momentum']", 0.8),
    ("config = dict(momentum=1.5)", "config['momentum']", 1.5),
    ("config = {'momentum': 1.5}", "config.get('momentum', 0.9)", 1.5),
    ("config = {'momentum': 1.5}", "config.get('lr', 0.9)", 0.9),
    ("config = {'momentum': 1.5}", "config.get('lr')", None),
    ("from easydict import EasyDict as edict\ncfg = edict({'train': {'workers': 16}})", "cfg.train.workers", 16),
    ("from easydict import EasyDict\ncfg = EasyDict(lr=0.1)", "cfg['lr']", 0.1),
    ("from types import SimpleNamespace\nns = SimpleNamespace(workers=6)", "ns.workers", 6),
    ("from dataclasses import dataclass\n@dataclass\nclass C:\n    workers: int = 10\n    lr: float = 0.1\n"
     "cfg = C(lr=0.5)", "(cfg.workers, cfg.lr)", (10, 0.5)),
    ("from dataclasses import dataclass, field\n@dataclass\nclass C:\n    workers: int = field(default=4)\n"
     "cfg = C()", "cfg.workers", 4),
])
def test_config_values(src, expr, expected):
    got = value(src, expr)
    assert got == expected and type(got) is type(expected)


def test_config_values_agree_with_python():
    """The same records built by Python: SimpleNamespace and dict behave as read."""
    assert types.SimpleNamespace(workers=6).workers == value(
        "from types import SimpleNamespace\nns = SimpleNamespace(workers=6)", "ns.workers")
    assert {"momentum": 1.5}.get("lr", 0.9) == value("config = {'momentum': 1.5}", "config.get('lr', 0.9)")


@pytest.mark.parametrize("src,expr", [
    ("config = {'momentum': 1.5}", "config.momentum"),  # a dict has no attributes
    ("from types import SimpleNamespace\nns = SimpleNamespace(w=6)", "ns['w']"),
    ("config = {'momentum': 1.5}\nconfig['momentum'] = 0.9", "config['momentum']"),
    ("config = {'momentum': 1.5}\nconfig.update(other)", "config['momentum']"),
    ("config = {'momentum': 1.5}\nfor k in keys:\n    config[k] = 0", "config['momentum']"),
    ("config = {'momentum': 1.5}\ndef f(c):\n    c['momentum'] = 0.9", "config['momentum']"),
    ("config = {'momentum': 1.5, **other}", "config['momentum']"),
    ("config = {**other, 'momentum': 1.5}", "config.get('lr', 0.9)"),
    ("config = {'momentum': 1.5}", "config['lr']"),
    ("from easydict import EasyDict\ncfg = EasyDict(load_yaml('c.yaml'))", "cfg.lr"),
    ("from easydict import EasyDict\ncfg = EasyDict({'lr': 0.1})\ncfg.lr = 0.5", "cfg.lr"),
    ("config = {'momentum': 1.5}\nif c:\n    config = {'momentum': 0.9}", "config['momentum']"),
])
def test_config_unknown(src, expr):
    assert value(src, expr) is UNKNOWN


def test_config_origin():
    src = ("from mindspore import nn\nconfig = {\n    'lr': 0.01,\n    'momentum': 1.5,\n}\n"
           "opt = nn.Momentum(params, learning_rate=config['lr'], momentum=config['momentum'])\n")
    out = lint_text(src, [rule_by_code("MS601")], path="t.py")
    assert [d.span.line for d in out.diagnostics] == [6]
    assert "`config['momentum']` (line 4)" in out.diagnostics[0].message


# --------------------------------------------------------------------------- constants
def test_constant_rebinding_in_order():
    assert value("X = 1\nX = 2", "X") == 2
    assert value("X = 1\nY = X\nX = 2", "Y") == 1


@pytest.mark.parametrize("src", [
    "X = 1\nif c:\n    X = 2",
    "if c:\n    X = 1\nelse:\n    X = 2",
    "X = 1\nfor i in r:\n    X = 2",
    "X = 1\ntry:\n    X = 2\nexcept E:\n    pass",
])
def test_constant_rebound_in_branches_is_unknown(src):
    assert value(src, "X") is UNKNOWN


def test_constant_in_one_branch_block_reads_in_order():
    src = "if __name__ == '__main__':\n    X = 1\n    X = 2\n    Y = X\n"
    m = build_model(cst.parse_module(src), src)
    y = m.module_scope.bindings["Y"][0]
    assert m.literal(y.value, m.module_scope, y.order) == 2


def test_constant_origin_and_literal_has_none():
    assert origin("W = 16", "W") == "`W`"
    assert origin("W = 16", "16") is None
    assert origin("W = 1\nif c:\n    W = 16", "W") is None


@pytest.mark.parametrize("src,expr,expected", [
    ("import os\nROOT = '/data'\nP = os.path.join(ROOT, 'train')", "P", "/data/train"),
    ("ROOT = '/data'\nN = 3", "f'{ROOT}/part{N}'", "/data/part3"),
    ("ROOT = '/data'", "f'{ROOT!r}'", UNKNOWN),
    ("", "f'{unknown}/x'", UNKNOWN),
])
def test_paths(src, expr, expected):
    assert value(src, expr) == expected if expected is not UNKNOWN else value(src, expr) is UNKNOWN


@pytest.mark.parametrize("src,expr", [
    ("config = {'momentum': 1.5}\ndef merge(d, extra):\n    d.update(extra)\nmerge(config, {})", "config['momentum']"),
    ("config = {'momentum': 1.5}\ndef merge(d, extra):\n    for k in extra:\n        d[k] = extra[k]\n"
     "merge(extra={}, d=config)", "config['momentum']"),
    ("from easydict import EasyDict\ncfg = EasyDict(lr=0.1)\ndef load(c, y):\n    for k, v in y.items():\n"
     "        setattr(c, k, v)\nload(cfg, y)", "cfg.lr"),
    ("from types import SimpleNamespace\nns = SimpleNamespace(lr=0.1)\nobj.__dict__.update(y)", "ns.lr"),
])
def test_config_changed_through_a_function_is_unknown(src, expr):
    assert value(src, expr) is UNKNOWN


def test_config_given_to_a_function_that_only_reads_it():
    src = "config = {'momentum': 1.5}\ndef show(d):\n    print(d['momentum'])\nshow(config)"
    assert value(src, "config['momentum']") == 1.5


def _in_function(src: str, expr: str, calls: str = ""):
    src = src.rstrip("\n") + f"\ndef main(opts):\n    RESULT = {expr}\n" + calls
    m = build_model(cst.parse_module(src), src)
    fscope = m.functions["main"].scope
    b = fscope.bindings["RESULT"][-1]
    return m.literal(b.value, fscope, b.order)


def test_record_given_to_a_function_called_once():
    parser = PARSER + "parser.add_argument('--workers', type=int, default=12)\nargs = parser.parse_args()\n"
    assert _in_function(parser, "opts.workers", "main(args)\n") == 12
    assert _in_function("cfg = {'lr': 0.5}", "opts['lr']", "main(opts=cfg)\n") == 0.5
    # called twice, or not at all: which record is not known
    assert _in_function(parser, "opts.workers", "main(args)\nmain(other)\n") is UNKNOWN
    assert _in_function(parser, "opts.workers") is UNKNOWN


def test_dataclass_with_post_init_is_unknown():
    src = ("from dataclasses import dataclass\n@dataclass\nclass C:\n    workers: int = 10\n"
           "    def __post_init__(self):\n        self.workers = min(self.workers, 2)\ncfg = C()")
    assert value(src, "cfg.workers") is UNKNOWN


def test_ms202_argparse_default_is_what_the_wheel_runs(tmp_path):
    """The argparse default msfix reads (type=int on '12') is the count MindSpore checks:
    the script run with its defaults raises the ValueError on a machine with fewer than
    12 cores, and the fixed script builds the dataset (MindSpore 2.10 CPU wheel)."""
    import os
    import subprocess
    import sys

    from msfix.engine import fix_text

    pytest.importorskip("mindspore")
    (tmp_path / "c10").mkdir()
    src = ("import argparse\nimport mindspore.dataset as ds\nparser = argparse.ArgumentParser()\n"
           "parser.add_argument('--workers', type=int, default='12')\nargs, _ = parser.parse_known_args()\n"
           "d = ds.Cifar10Dataset('c10', num_parallel_workers=args.workers)\nprint('built')\n")
    rules = [rule_by_code("MS202")]
    out = lint_text(src, rules, path="t.py")
    assert [(d.code, d.span.line) for d in out.diagnostics] == [("MS202", 6)]
    fixed, _, applied, error = fix_text(src, rules, path="t.py")
    assert applied == 1 and error is None
    assert "min(args.workers, os.cpu_count() or 1)" in fixed

    def run(text):
        (tmp_path / "s.py").write_text(text, encoding="utf-8")
        return subprocess.run([sys.executable, "s.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    before, after = run(src), run(fixed)
    if (os.cpu_count() or 1) < 12:
        assert before.returncode != 0 and "num_parallel_workers exceeds the boundary" in before.stderr
    else:
        assert before.returncode == 0
    assert after.returncode == 0 and "built" in after.stdout, after.stderr[-2000:]


def test_argparse_argument_added_after_parsing_is_not_read():
    src = PARSER + "args = parser.parse_args()\nparser.add_argument('--w', default=3)\n"
    assert value(src, "args.w") is UNKNOWN


# ------------------------------------------------- conditions, helper parameters per call
@pytest.mark.parametrize("expr", [
    "8 if DEBUG else 128", "8 if not DEBUG else 128", "MODE == 'train'", "MODE != 'train' or N > 3",
    "1 < N <= 96", "MODE in ('train', 'eval')", "MODE not in ['x']", "DEBUG and N", "N and DEBUG",
    "0 or N", "NONE is None", "DEBUG is False", "(N if MODE == 'train' else 1) * 2",
])
def test_conditions_evaluate_as_python_does(expr):
    src = "DEBUG = False\nMODE = 'train'\nN = 96\nNONE = None\n"
    ns: dict = {}
    exec(src, ns)
    assert value(src, expr) == eval(expr, ns)


@pytest.mark.parametrize("expr", ["8 if flag else 128", "MODE is 'train'", "x == 1", "N in other"])
def test_conditions_on_unknowns_are_unknown(expr):
    assert value("MODE = 'train'\nN = 96\n", expr) is UNKNOWN


HELPER = """
import argparse
import mindspore.dataset as ds
parser = argparse.ArgumentParser()
parser.add_argument("--workers", type=int, default=16)
args = parser.parse_args()

def make(path, training=True, workers=2):
    if training:
        nw = workers
    else:
        nw = 1
    bs = 128 if training else 8
    return ds.MnistDataset(path, num_parallel_workers=nw).batch(bs)

a = make("a", workers=args.workers)
b = make("b", training=False, workers=32)
c = make("c")
"""


def test_per_call_reads_each_calls_arguments_defaults_and_branches():
    from msfix.analysis.values import per_call

    m = build_model(cst.parse_module(HELPER), HELPER)
    src_site = next(s for s in m.calls if s.qualname == "mindspore.dataset.MnistDataset")
    nw = src_site.keyword("num_parallel_workers").value
    got = per_call(m, nw, src_site.scope, src_site.order)
    assert [v for v, _ in got] == [16, 1, 2]
    assert [s.target for _, s in got] == ["a", "b", "c"]
    batch = next(s for s in m.calls if s.method == "batch")
    assert [v for v, _ in per_call(m, batch.node.args[0].value, batch.scope, batch.order)] == [128, 8, 128]
    # without a call site the value depends on the call: unknown
    assert m.literal(nw, src_site.scope, src_site.order) is UNKNOWN
    origins = [origin_of(m, nw, src_site.scope, src_site.order, None, s) for _, s in got]
    assert origins == ["`nw`, from `workers` (16 given to `make`), from `args.workers` (argparse default 16)",
                       None,  # a literal in the branch the call takes
                       "`nw`, from `workers` (default 2 of `make`)"]


@pytest.mark.parametrize("body", [
    # the condition does not follow from the call
    "    if path.endswith('x'):\n        nw = workers\n    else:\n        nw = 1\n",
    # a binding in a loop
    "    nw = 1\n    for _ in range(2):\n        if training:\n            nw = workers\n",
    # in a try
    "    nw = 1\n    try:\n        if training:\n            nw = workers\n    except ValueError:\n        pass\n",
])
def test_per_call_branches_it_cannot_follow_are_unknown(body):
    from msfix.analysis.values import per_call

    src = ("import mindspore.dataset as ds\n"
           "def make(path, training=True, workers=2):\n" + body +
           "    return ds.MnistDataset(path, num_parallel_workers=nw)\n"
           "a = make('a', workers=32)\n")
    m = build_model(cst.parse_module(src), src)
    site = next(s for s in m.calls if s.qualname == "mindspore.dataset.MnistDataset")
    got = per_call(m, site.keyword("num_parallel_workers").value, site.scope, site.order)
    assert [v for v, _ in got] == [UNKNOWN]


def test_per_call_elif_chain_and_parameter_kept():
    from msfix.analysis.values import per_call

    src = ("import mindspore.dataset as ds\n"
           "def make(mode, nw=3):\n"
           "    if mode == 'train':\n        nw = 12\n    elif mode == 'eval':\n        nw = 6\n"
           "    return ds.MnistDataset('p', num_parallel_workers=nw)\n"
           "make('train')\nmake('eval')\nmake('test')\nmake('test', nw=9)\n")
    m = build_model(cst.parse_module(src), src)
    site = next(s for s in m.calls if s.qualname == "mindspore.dataset.MnistDataset")
    got = per_call(m, site.keyword("num_parallel_workers").value, site.scope, site.order)
    assert [v for v, _ in got] == [12, 6, 3, 9]


def test_per_call_leaves_out_calls_that_do_not_run_the_statement():
    from msfix.analysis.values import per_call

    src = ("from mindspore import nn\n"
           "def build(net, momentum=0.9, nesterov=False):\n"
           "    if nesterov:\n"
           "        return nn.Momentum(net.trainable_params(), 0.1, momentum=momentum, use_nesterov=True)\n"
           "    return nn.SGD(net.trainable_params(), 0.1, momentum=momentum)\n"
           "build(net, momentum=1.1)\nbuild(net, momentum=0.5, nesterov=True)\n")
    m = build_model(cst.parse_module(src), src)
    mom = next(s for s in m.calls if s.qualname == "mindspore.nn.Momentum")
    sgd = next(s for s in m.calls if s.qualname == "mindspore.nn.SGD")
    arg = lambda s: s.keyword("momentum").value  # noqa: E731
    assert [v for v, _ in per_call(m, arg(mom), mom.scope, mom.order, mom.statement)] == [0.5]
    assert [v for v, _ in per_call(m, arg(mom), mom.scope, mom.order)] == [1.1, 0.5]
    assert 1.1 in [v for v, _ in per_call(m, arg(sgd), sgd.scope, sgd.order, sgd.statement)]


def test_per_call_leaves_out_calls_that_returned_earlier():
    from msfix.analysis.values import per_call

    src = ("import mindspore.dataset as ds\n"
           "def make(mode=None, workers=8):\n"
           "    if mode == 'train':\n"
           "        d = ds.GeneratorDataset(src, ['a'], num_parallel_workers=workers)\n"
           "        return d.batch(2)\n"
           "    return ds.GeneratorDataset(src, ['a', 'b'], num_parallel_workers=workers)\n"
           "make(mode='train')\nmake(mode='train', workers=2)\n")
    m = build_model(cst.parse_module(src), src)
    first, second = [s for s in m.calls if s.qualname == "mindspore.dataset.GeneratorDataset"]
    arg = lambda s: s.keyword("num_parallel_workers").value  # noqa: E731
    assert [v for v, _ in per_call(m, arg(first), first.scope, first.order, first.statement)] == [8, 2]
    assert per_call(m, arg(second), second.scope, second.order, second.statement) == []
    src2 = src.replace("make(mode='train')\n", "make(mode='eval')\n")
    m = build_model(cst.parse_module(src2), src2)
    second = [s for s in m.calls if s.qualname == "mindspore.dataset.GeneratorDataset"][1]
    assert [v for v, _ in per_call(m, arg(second), second.scope, second.order, second.statement)] == [8]
