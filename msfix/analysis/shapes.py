"""Tensor shapes from a dataset's samples into the network (issue 11).

The sample shape of a known dataset source (Mnist 28x28x1 HWC, Cifar10 32x32x3, ...)
is followed through the pipeline's map ops (Decode, Resize, crops, Pad, Grayscale,
HWC2CHW, ToTensor; shape-neutral ops such as Rescale and Normalize) to the batched
NCHW tensor that reaches the network, then through the network's `construct`:
straight-line code, `nn.SequentialCell`, sub-Cells defined in the script, reshapes and
flattens, and the standard layers (Conv1d/2d, pools, adaptive pools, Dense, Flatten,
BatchNorm, LayerNorm, Dropout, activations, Embedding), with MindSpore 2.10 semantics
(checked on the wheel: Conv pad_mode defaults to 'same', pools to 'valid' with
kernel_size=1, stride=1; 'pad' mode padding of Conv2d is an int or (top, bottom, left,
right); Dense applies to the last axis).

Where anything is unknown (an op msfix does not model, a branch in `construct`, a
layer built in a helper method), the analysis stops quietly for that value. Computed
only when a rule asks, once per model (`model.cached("shapes", ...)`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst

from msfix.analysis import data as _data
from msfix.analysis.model import UNKNOWN, CallSite, CellClass, Pipeline, Scope, ScriptModel
from msfix.analysis.network import network as _network, nn_class
from msfix.analysis.training import MODEL_ARGS, value_call
from msfix.analysis.values import evaluate

Dims = Tuple[Optional[int], ...]

# layers whose output has the shape of their input
_SAME_SHAPE_NN = frozenset({
    "ReLU", "ReLU6", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "FastGelu", "ELU", "SiLU", "Mish", "HSwish",
    "HSigmoid", "Softmax", "LogSoftmax", "Softplus", "Softsign", "SeLU", "CELU", "PReLU", "Hardtanh",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "LayerNorm", "Identity", "LRN",
})
_SAME_SHAPE_OPS = frozenset({
    "relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "mish", "softmax", "log_softmax", "elu", "leaky_relu",
    "dropout", "hardswish", "softplus", "ReLU", "ReLU6", "Sigmoid", "Tanh", "GeLU", "Softmax", "LogSoftmax",
    "Dropout", "HSwish", "Elu", "SiLU", "Mish",
})
# dataset transforms that keep an image's shape (geometry-preserving by default)
_SAME_SHAPE_TRANSFORMS = frozenset({
    "Rescale", "Normalize", "TypeCast", "ToType", "RandomHorizontalFlip", "RandomVerticalFlip",
    "RandomColorAdjust", "RandomErasing", "AutoAugment", "RandAugment", "TrivialAugmentWide", "RandomSharpness",
    "RandomPosterize", "RandomSolarize", "RandomAutoContrast", "RandomEqualize", "Invert", "Equalize",
    "AutoContrast", "RandomAffine", "RandomPerspective", "GaussianBlur", "RandomAdjustSharpness",
    "RandomInvert", "RandomColor", "ToPIL", "HorizontalFlip", "VerticalFlip",
})
_CHECKED = {"Dense": "in_channels", "Linear": "in_features", "Conv1d": "in_channels", "Conv2d": "in_channels",
            "BatchNorm1d": "num_features", "BatchNorm2d": "num_features"}
SPARSE_LOSSES = ("mindspore.nn.SoftmaxCrossEntropyWithLogits", "mindspore.nn.CrossEntropyLoss",
                 "mindspore.nn.NLLLoss")


# -- results --------------------------------------------------------------------------------
@dataclass
class LayerInput:
    """One application of a layer in `construct` whose input shape is known."""

    layer: CallSite  # the nn.Dense/Conv/BatchNorm constructor call
    param: str  # "in_channels" | "num_features" | "in_features"
    expected: int  # what the layer was built with
    actual: int  # what reaches it
    path: str  # "1x28x28 -> conv1 6x24x24 -> ... -> flatten 256"
    label: str  # "fc1", "features[3]"
    use: cst.CSTNode  # the expression in construct that applies it
    fix_expr: Optional[cst.BaseExpression] = None  # a literal to replace, if the value is written in one
    fix_top: Optional[int] = None
    fix_text: str = ""  # the replacement ("256", "16 * 4 * 4")
    origin: str = ""  # where a literal given through an `__init__` parameter is written
    origin_at: Optional[tuple] = None  # (expr, scope, order, Cell given to) for ctx.values.origin
    first: bool = True  # the first mismatch on its path (later ones follow from it)
    dataset: Optional[CallSite] = None

    @property
    def mismatch(self) -> bool:
        return self.expected != self.actual


@dataclass
class Classifier:
    """The network's output size against the classes of the labels a sparse loss reads."""

    layer: CallSite  # the Dense that sets the output size
    label: str
    out: int
    classes: int
    dataset: CallSite  # the dataset source
    column: str
    loss: CallSite
    fix_expr: Optional[cst.BaseExpression] = None
    fix_top: Optional[int] = None
    origin: str = ""
    origin_at: Optional[tuple] = None


@dataclass
class _T:
    """What is known about a tensor value: its dims (None: unknown rank), its last dim."""

    dims: Optional[Dims]
    last: Optional[int] = None
    producer: Optional[Tuple[CallSite, Optional["_Env"], str]] = None  # the Dense setting `last`
    path: Tuple[str, ...] = ()
    flat_from: Optional[Dims] = None  # the per-sample dims a flatten/reshape folded into its last axis

    @staticmethod
    def of(dims: Optional[Dims], path: Tuple[str, ...], producer=None) -> "_T":
        last = dims[-1] if dims else None
        return _T(dims, last, producer, path)


def _txt(dims: Dims) -> str:
    return "x".join("?" if d is None else str(d) for d in dims[1:]) or "scalar"


@dataclass
class _Env:
    """Values of the `__init__` parameters of one Cell instance."""

    site: Optional[CallSite]  # the instance call (None: a module-level SequentialCell)
    init: Optional[cst.FunctionDef] = None
    parent: Optional["_Env"] = None
    cell: Optional[CellClass] = None

    def value(self, m: ScriptModel, expr: Optional[cst.BaseExpression], scope: Scope, order: Optional[int]):
        if expr is None:
            return UNKNOWN
        return evaluate(m, expr, scope, order, 0, param=self._param(m))

    def _param(self, m: ScriptModel):
        def get(b, depth):
            return self.param_value(m, b, depth)
        return get

    def param_value(self, m: ScriptModel, b, depth: int = 0):
        given = self.param_expr(m, b)
        if given is None:
            return UNKNOWN
        expr, scope, order, env = given
        if env is None:
            return evaluate(m, expr, scope, order, depth + 1)
        return evaluate(m, expr, scope, order, depth + 1, param=env._param(m))

    def param_expr(self, m: ScriptModel, b):
        """(expr, scope, order, env it is evaluated in) giving parameter binding `b`."""
        if self.init is None or self.site is None or b.scope.node is not self.init \
                or not isinstance(b.node, cst.Param):
            return None
        if len(b.scope.bindings.get(b.name, ())) != 1:
            return None  # rebound in __init__
        p = b.node
        params = [*self.init.params.posonly_params, *self.init.params.params]
        site = self.site
        if site.has_star_args or any(a.star for a in site.node.args):
            return None
        kw = site.keyword(b.name)
        given = kw.value if kw is not None else None
        if given is None:
            for i, q in enumerate(params[1:]):
                if q.name.value == b.name:
                    a = site.positional(i)
                    given = a.value if a is not None else None
        if given is None:
            if p.default is None:
                return None
            return p.default, m.module_scope, None, None
        return given, site.scope, site.order, self.parent


# -- the sample shape through the pipeline ---------------------------------------------------
def _size2(v) -> Optional[Tuple[int, int]]:
    if isinstance(v, bool):
        return None
    if isinstance(v, int) and v > 0:
        return (v, v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                           and x > 0 for x in v):
        return (v[0], v[1])
    return None


def _op_value(m: ScriptModel, op, name: str, index: int, env):
    call = op.call
    if call is None:
        return UNKNOWN, False
    for a in call.args:
        if a.star:
            return UNKNOWN, True
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return _data.value(m, a.value, op.scope, op.order, env), True
    i = 0
    for a in call.args:
        if a.keyword is None:
            if i == index:
                return _data.value(m, a.value, op.scope, op.order, env), True
            i += 1
    return UNKNOWN, False


def _apply_transform(m: ScriptModel, state, op, env):
    """(h, w, c, layout) after one transform, or None when unknown."""
    h, w, c, layout = state
    s = op.short
    if op.call is None:
        return None
    if s in _SAME_SHAPE_TRANSFORMS:
        return state
    if s == "Decode":
        if layout not in ("encoded", None):
            return None
        return (None, None, 3, "HWC")
    if s in ("HWC2CHW",):
        return (h, w, c, "CHW") if layout == "HWC" else None
    if s == "ToTensor":
        return (h, w, c, "CHW") if layout == "HWC" else None
    if layout != "HWC":
        return None  # geometry on CHW data: not modelled
    if s == "Resize":
        v, given = _op_value(m, op, "size", 0, env)
        if isinstance(v, int) and not isinstance(v, bool):
            if h is not None and h == w and v > 0:
                return (v, v, c, layout)
            return None  # the shorter side is resized: the other follows the aspect ratio
        got = _size2(v)
        return (got[0], got[1], c, layout) if got else None
    if s in ("CenterCrop", "RandomCrop", "RandomResizedCrop", "RandomCropDecodeResize"):
        v, _ = _op_value(m, op, "size", 0, env)
        got = _size2(v)
        return (got[0], got[1], c, layout) if got else None
    if s == "Crop":
        v, _ = _op_value(m, op, "size", 1, env)
        got = _size2(v)
        return (got[0], got[1], c, layout) if got else None
    if s == "Pad":
        v, _ = _op_value(m, op, "padding", 0, env)
        if isinstance(v, int) and not isinstance(v, bool) and v >= 0 and h is not None and w is not None:
            return (h + 2 * v, w + 2 * v, c, layout)
        return None
    if s == "Grayscale":
        v, given = _op_value(m, op, "num_output_channels", 0, env)
        if not given:
            v = 1
        return (h, w, v, layout) if v in (1, 3) else None
    if s == "RandomRotation":
        v, given = _op_value(m, op, "expand", 2, env)
        return state if (not given or v is False) else None
    return None


@dataclass
class _Input:
    dims: Dims  # (None, C, H, W)
    source: CallSite
    pipe: Pipeline
    env: dict


def _network_input(m: ScriptModel, pipe: Pipeline, env, column: Optional[str] = None) -> Optional[_Input]:
    """The batched NCHW shape of `column` of `pipe` (default: the first of two columns)."""
    cols = _data.stage_columns(m, pipe, env)
    if not isinstance(cols, list):
        return None
    if column is None:
        if len(cols) != 2:
            return None
        column = cols[0]
    src = _data.source_columns(m, pipe.source, env)
    if column not in cols or src is UNKNOWN or column not in src:  # type: ignore[operator]
        return None
    spec = src[column]  # type: ignore[index]
    if spec.get("kind") not in ("image", None):
        return None
    shape = spec.get("shape")
    layout = spec.get("layout")
    if layout == "HWC" and isinstance(shape, (list, tuple)) and len(shape) == 3:
        state = (shape[0], shape[1], shape[2], "HWC")
    elif layout == "HWC" and shape is None and (pipe.source.facts or {}).get("decode_arg"):
        state = (None, None, 3, "HWC")  # decoded by the reader: RGB
    elif layout == "encoded":
        state = (None, None, None, "encoded")
    else:
        return None
    batched = 0
    for ev in _data.column_events(m, pipe, column, env):
        if ev.kind == "unknown":
            return None
        if ev.kind == "batch":
            if ev.stage.call.has_star_args or ev.stage.call.keyword("per_batch_map") is not None \
                    or ev.stage.op != "batch":
                return None
            batched += 1
            continue
        if batched:
            return None
        state = _apply_transform(m, state, ev.op, env)
        if state is None:
            return None
    if batched != 1 or any(st.op in ("padded_batch", "bucket_batch_by_length") for st in pipe.stages()):
        return None
    h, w, c, layout = state
    if layout != "CHW" or None in (h, w, c):
        return None
    return _Input((None, c, h, w), pipe.source.call, pipe, env)


# -- Cells ---------------------------------------------------------------------------------
@dataclass
class _Layer:
    kind: str  # "nn" | "seq" | "cell" | "op"
    name: str  # nn class short name / ops primitive name / local class name
    site: Optional[CallSite]
    env: Optional[_Env]
    items: List["_Layer"] = field(default_factory=list)  # SequentialCell elements
    cell: Optional[CellClass] = None


class _Shapes:
    def __init__(self, m: ScriptModel) -> None:
        self.m = m
        self.net = _network(m)
        self.inputs: List[LayerInput] = []
        self.classifiers: List[Classifier] = []
        self._seen: set = set()
        self._depth = 0

    # -- layers built in __init__ ------------------------------------------------------------
    def _init_assign(self, cell: CellClass, attr: str) -> Optional[Tuple[cst.BaseExpression, CellClass]]:
        chain = self.net.cell_chain(cell)
        if chain is None:
            return None
        found = [(v, node, c) for c in chain for (n, v, node) in c.self_assigns if n == attr]
        if len(found) != 1:
            return None
        value, node, owner = found[0]
        init = owner.methods.get("__init__")
        if init is None or not isinstance(init.body, cst.IndentedBlock):
            return None
        direct = any(isinstance(st, cst.SimpleStatementLine) and any(x is node for x in st.body)
                     for st in init.body.body)
        if not direct:
            return None
        return value, owner

    def _layer_of_expr(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int],
                       env: Optional[_Env]) -> Optional[_Layer]:
        m = self.m
        if not isinstance(expr, cst.Call):
            return None
        site = m.call_of(expr)
        if site is None or site.has_star_args:
            return None
        q = site.qualname or ""
        if q.startswith("<local>.") and q[8:] in m.cells:
            cell = m.cells[q[8:]]
            if self.net.cell_chain(cell) is None:
                return None
            got = self.net.method(cell, "__init__")
            init = got[1] if got is not None else None
            if got is not None and got[0] is not cell:
                init = None  # inherited __init__: parameters not followed
            return _Layer("cell", cell.name, site, _Env(site, init, env, cell), cell=cell)
        if q == "mindspore.nn.SequentialCell":
            a = site.positional(0)
            if a is None or site.keyword("args") is not None:
                return None
            elems: Sequence[cst.BaseExpression]
            if isinstance(a.value, (cst.List, cst.Tuple)) and len(site.node.args) == 1:
                if any(isinstance(e, cst.StarredElement) for e in a.value.elements):
                    return None
                elems = [e.value for e in a.value.elements]
            elif all(x.keyword is None and not x.star for x in site.node.args) \
                    and not isinstance(a.value, (cst.List, cst.Tuple, cst.Dict, cst.Name)):
                elems = [x.value for x in site.node.args]
            else:
                return None
            items = []
            for e in elems:
                lay = self._layer_of_expr(e, site.scope, site.order, env)
                if lay is None:
                    return None
                items.append(lay)
            return _Layer("seq", "SequentialCell", site, env, items)
        cls = nn_class(q)
        if cls is not None:
            return _Layer("nn", cls, site, env)
        if q.startswith("mindspore.ops.") and q.rsplit(".", 1)[-1][:1].isupper():
            return _Layer("op", q.rsplit(".", 1)[-1], site, env)
        return None

    def _self_layer(self, cell: CellClass, attr: str, env: _Env) -> Optional[_Layer]:
        got = self._init_assign(cell, attr)
        if got is None:
            return None
        value, owner = got
        site = self.m.call_of(value) if isinstance(value, cst.Call) else None
        if site is None:
            return None
        layer_env = env if owner is env.cell else _Env(None, None, None, owner)
        return self._layer_of_expr(value, site.scope, site.order, layer_env)

    # -- arguments of a layer ----------------------------------------------------------------
    def _arg(self, lay: _Layer, name: str, index: Optional[int], default=UNKNOWN):
        site = lay.site
        assert site is not None
        a = site.arg(name, index)
        if a is None:
            if any(x.star for x in site.node.args):
                return UNKNOWN
            return default
        env = lay.env or _Env(None)
        return env.value(self.m, a.value, site.scope, site.order)

    def _ints(self, lay: _Layer, name: str, index: Optional[int], n: int, default) -> Optional[Tuple[int, ...]]:
        v = self._arg(lay, name, index, default)
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            return (v,) * n
        if isinstance(v, (tuple, list)) and len(v) == n and all(isinstance(x, int) and not isinstance(x, bool)
                                                                for x in v):
            return tuple(v)
        return None

    # -- applying one layer ------------------------------------------------------------------
    def _apply(self, lay: _Layer, t: _T, label: str, use: cst.CSTNode, state: dict) -> Optional[_T]:
        if self._depth > 12:
            return None
        if lay.kind == "seq":
            cur: Optional[_T] = t
            for i, item in enumerate(lay.items):
                cur = self._apply(item, cur or _T(None), f"{label}[{i}]", use, state)
            return cur
        if lay.kind == "cell":
            assert lay.cell is not None and lay.env is not None
            self._depth += 1
            try:
                return self._construct(lay.cell, lay.env, t, label + "." if label else "", state)
            finally:
                self._depth -= 1
        if lay.kind == "op":
            return self._apply_primitive(lay, t, label)
        return self._apply_nn(lay, t, label, use, state)

    def _check(self, lay: _Layer, param: str, index: int, actual: Optional[int], t: _T, label: str,
               use: cst.CSTNode, state: dict) -> None:
        if actual is None or lay.site is None:
            return
        site = lay.site
        a = site.arg(param, index)
        if a is None:
            return
        env = lay.env or _Env(None)
        expected = env.value(self.m, a.value, site.scope, site.order)
        if not isinstance(expected, int) or isinstance(expected, bool):
            return
        path = " -> ".join(t.path)
        rec = LayerInput(site, param, expected, actual, path, label, use, dataset=state.get("source"))
        if expected != actual:
            rec.first = not state.get("mismatch")
            state["mismatch"] = True
            self._fix_target(rec, a.value, site, env, t)
        key = (id(site.node), id(use), expected, actual, path)
        if key not in self._seen:
            self._seen.add(key)
            self.inputs.append(rec)

    def _fix_target(self, rec: LayerInput, expr: cst.BaseExpression, site: CallSite, env: _Env,
                    t: _T) -> None:
        """Where the value is written: the layer's own literal, or the literal given for the
        `__init__` parameter it reads (at the instance call, or its default)."""
        got = _literal_source(self.m, expr, site.scope, env)
        if got is None:
            rec.origin_at = _origin_for(self.m, expr, site, env)
            return
        lit, top, where = got
        rec.fix_expr, rec.fix_top, rec.origin = lit, top, where
        rec.fix_text = str(rec.actual)
        # `16 * 5 * 5` after a flatten of 16x4x4: keep the product form
        if isinstance(lit, cst.BinaryOperation) and rec.param in ("in_channels", "in_features"):
            flat = t.flat_from
            if flat is not None and _product_terms(lit) == len(flat):
                rec.fix_text = " * ".join(str(d) for d in flat)

    def _apply_nn(self, lay: _Layer, t: _T, label: str, use: cst.CSTNode, state: dict) -> Optional[_T]:
        name = lay.name
        dims = t.dims
        site = lay.site
        assert site is not None
        if name in _SAME_SHAPE_NN:
            return t
        if name in ("Dense", "Linear"):
            pin, pout = ("in_channels", "out_channels") if name == "Dense" else ("in_features", "out_features")
            out = self._arg(lay, pout, 1)
            if dims is not None and len(dims) >= 2:
                self._check(lay, pin, 0, dims[-1], t, label, use, state)
            if not isinstance(out, int) or isinstance(out, bool):
                return None
            path = t.path + (f"{label} {out}",) if dims is not None else ()
            nd = dims[:-1] + (out,) if dims is not None else None
            return _T(nd, out, (site, lay.env, label), path)
        if dims is None:
            return None
        if name in ("Conv2d", "Conv1d"):
            nsp = 2 if name == "Conv2d" else 1
            if len(dims) != nsp + 2:
                return None
            if name == "Conv2d" and self._arg(lay, "data_format", None, "NCHW") != "NCHW":
                return None
            self._check(lay, "in_channels", 0, dims[1], t, label, use, state)
            out = self._arg(lay, "out_channels", 1)
            k = self._ints(lay, "kernel_size", 2, nsp, UNKNOWN)
            s = self._ints(lay, "stride", 3, nsp, 1)
            mode = self._arg(lay, "pad_mode", 4, "same")
            d = self._ints(lay, "dilation", 6, nsp, 1)
            if not isinstance(out, int) or k is None or s is None or d is None or not isinstance(mode, str):
                return None
            mode = mode.lower()
            pads = self._pads(lay, 5, nsp, mode)
            if pads is None:
                return None
            sp: List[Optional[int]] = []
            for i in range(nsp):
                x = dims[2 + i]
                if x is None:
                    sp.append(None)
                    continue
                y = _conv_out(x, k[i], s[i], d[i], mode, pads[i], False)
                if y is None or y <= 0:
                    return None
                sp.append(y)
            nd = (dims[0], out) + tuple(sp)
            return _T.of(nd, t.path + (f"{label} {_txt(nd)}",))
        if name in ("MaxPool2d", "AvgPool2d", "MaxPool1d", "AvgPool1d"):
            nsp = 2 if name.endswith("2d") else 1
            if len(dims) != nsp + 2 or site.positional(4) is not None:
                return None  # (ceil_mode/dilation given by position: not followed)
            if self._arg(lay, "data_format", None, "NCHW") != "NCHW":
                return None
            k = self._ints(lay, "kernel_size", 0, nsp, 1)
            s = self._ints(lay, "stride", 1, nsp, 1)
            mode = self._arg(lay, "pad_mode", 2, "valid")
            dil = self._ints(lay, "dilation", 4 if name.startswith("Max") else None, nsp, 1) \
                if name.startswith("Max") else (1,) * nsp
            ceil_mode = self._arg(lay, "ceil_mode", None, False)
            if k is None or s is None or dil is None or not isinstance(mode, str) or not isinstance(ceil_mode, bool):
                return None
            mode = mode.lower()
            pads = self._pool_pads(lay, nsp, mode)
            if pads is None:
                return None
            sp = []
            for i in range(nsp):
                x = dims[2 + i]
                if x is None:
                    sp.append(None)
                    continue
                y = _conv_out(x, k[i], s[i], dil[i], mode, pads[i], ceil_mode)
                if y is None or y <= 0:
                    return None
                sp.append(y)
            nd = dims[:2] + tuple(sp)
            return _T.of(nd, t.path + (f"{label} {_txt(nd)}",))
        if name in ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d"):
            nsp = 2 if name.endswith("2d") else 1
            if len(dims) != nsp + 2:
                return None
            v = self._arg(lay, "output_size", 0)
            if isinstance(v, int) and not isinstance(v, bool):
                v = (v,) * nsp
            if not isinstance(v, (tuple, list)) or len(v) != nsp:
                return None
            sp = []
            for i, o in enumerate(v):
                if o is None:
                    sp.append(dims[2 + i])
                elif isinstance(o, int) and not isinstance(o, bool) and o > 0:
                    sp.append(o)
                else:
                    return None
            nd = dims[:2] + tuple(sp)
            return _T.of(nd, t.path + (f"{label} {_txt(nd)}",))
        if name == "Flatten":
            sd = self._arg(lay, "start_dim", 0, 1)
            ed = self._arg(lay, "end_dim", 1, -1)
            return _flatten(t, sd, ed, label)
        if name in ("BatchNorm2d", "BatchNorm1d"):
            want = 4 if name == "BatchNorm2d" else (2, 3)
            if (len(dims) != want) if isinstance(want, int) else (len(dims) not in want):
                return None
            if self._arg(lay, "data_format", None, "NCHW") != "NCHW":
                return None
            self._check(lay, "num_features", 0, dims[1], t, label, use, state)
            return t
        if name == "Embedding":
            e = self._arg(lay, "embedding_size", 1)
            if not isinstance(e, int) or isinstance(e, bool):
                return None
            nd = dims + (e,)
            return _T.of(nd, t.path + (f"{label} {_txt(nd)}",))
        return None

    def _pads(self, lay: _Layer, index: int, nsp: int, mode: str):
        """(before, after) padding per spatial axis for a Conv in 'pad' mode."""
        if mode != "pad":
            return [(0, 0)] * nsp if mode in ("same", "valid") else None
        v = self._arg(lay, "padding", index, 0)
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            return [(v, v)] * nsp
        if nsp == 2 and isinstance(v, (tuple, list)) and len(v) == 4 and all(
                isinstance(x, int) and not isinstance(x, bool) for x in v):
            return [(v[0], v[1]), (v[2], v[3])]
        return None

    def _pool_pads(self, lay: _Layer, nsp: int, mode: str):
        if mode != "pad":
            return [(0, 0)] * nsp if mode in ("same", "valid") else None
        v = self._arg(lay, "padding", 3, 0)
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            return [(v, v)] * nsp
        if isinstance(v, (tuple, list)) and len(v) == nsp and all(isinstance(x, int) for x in v):
            return [(x, x) for x in v]
        return None

    def _apply_primitive(self, lay: _Layer, t: _T, label: str) -> Optional[_T]:
        name = lay.name
        if name in _SAME_SHAPE_OPS:
            return t
        if name == "Flatten":
            return _flatten(t, 1, -1, label)
        return None

    # -- construct -----------------------------------------------------------------------------
    def _construct(self, cell: CellClass, env: _Env, t: _T, prefix: str, state: dict) -> Optional[_T]:
        got = self.net.method(cell, "construct")
        if got is None:
            return None
        _, fn = got
        params = [*fn.params.posonly_params, *fn.params.params]
        if len(params) < 2 or isinstance(fn.params.star_arg, cst.Param):
            return None
        if any(p.default is None for p in params[2:]) or fn.params.kwonly_params and any(
                p.default is None for p in fn.params.kwonly_params):
            return None
        if not isinstance(fn.body, cst.IndentedBlock):
            return None
        local: Dict[str, Optional[_T]] = {params[1].name.value: t}
        result: Optional[_T] = None
        returned = False
        for st in fn.body.body:
            if returned:
                break
            if isinstance(st, cst.SimpleStatementLine):
                for small in st.body:
                    if isinstance(small, cst.Return):
                        result = self._eval(small.value, cell, env, local, prefix, state) \
                            if small.value is not None else None
                        returned = True
                        break
                    if isinstance(small, cst.Assign):
                        val = self._eval(small.value, cell, env, local, prefix, state)
                        for tg in small.targets:
                            if isinstance(tg.target, cst.Name):
                                local[tg.target.value] = val
                            else:
                                for n in _names_in(tg.target):
                                    local[n] = None
                        continue
                    if isinstance(small, cst.AugAssign):
                        if isinstance(small.target, cst.Name):
                            name = small.target.value
                            cur = local.get(name)
                            other = self._eval(small.value, cell, env, local, prefix, state)
                            local[name] = _binop(small.operator, cur, other)
                        continue
                    if isinstance(small, cst.AnnAssign):
                        for n in _names_in(small.target):
                            local[n] = None
                        continue
                    if isinstance(small, cst.Expr):
                        continue
                    if isinstance(small, (cst.Pass, cst.Assert)):
                        continue
                    for n in _names_in(small):
                        local[n] = None
                continue
            # a compound statement: what it binds is unknown afterwards; a return inside
            # it makes the result unknown
            for n in _names_in(st):
                local[n] = None
            if _has_return(st):
                return None
        return result if returned else None

    def _eval(self, expr: cst.BaseExpression, cell: CellClass, env: _Env, local: Dict[str, Optional[_T]],
              prefix: str, state: dict) -> Optional[_T]:
        m = self.m
        if isinstance(expr, cst.Name):
            return local.get(expr.value)
        if isinstance(expr, cst.BinaryOperation):
            a = self._eval(expr.left, cell, env, local, prefix, state)
            b = self._eval(expr.right, cell, env, local, prefix, state)
            if a is None and b is None:
                return None
            if a is None and _is_number(expr.left):
                return b
            if b is None and _is_number(expr.right):
                return a
            return _binop(expr.operator, a, b)
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        pos = [a for a in expr.args if a.keyword is None and not a.star]
        if any(a.star for a in expr.args):
            return None
        # self.layer(x)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            lay = self._self_layer(cell, func.attr.value, env)
            if lay is None:
                for arg in expr.args:
                    self._eval(arg.value, cell, env, local, prefix, state)
                return None
            if lay.kind == "op" and lay.name == "Reshape" and len(pos) == 2:
                x = self._eval(pos[0].value, cell, env, local, prefix, state)
                return self._reshape(x, pos[1].value, cell, env, local, "reshape")
            if len(expr.args) != 1 or not pos:
                return None
            x = self._eval(pos[0].value, cell, env, local, prefix, state) or _T(None)
            return self._apply(lay, x, prefix + func.attr.value, expr, state)
        site = m.call_of(expr)
        q = site.qualname if site is not None else None
        # x.view(...) / x.reshape(...) / x.flatten()
        if not q and isinstance(func, cst.Attribute) and func.attr.value in ("view", "reshape", "flatten"):
            x = self._eval(func.value, cell, env, local, prefix, state)
            if x is None:
                return None
            if func.attr.value == "flatten":
                if expr.args:
                    return None
                return _flatten(x, 0, -1, "flatten")
            if len(pos) == 1 and len(expr.args) == 1:
                return self._reshape(x, pos[0].value, cell, env, local, func.attr.value)
            if pos and len(pos) == len(expr.args):
                return self._reshape(x, cst.Tuple([cst.Element(a.value) for a in pos]), cell, env, local,
                                     func.attr.value)
            return None
        if q and q.startswith("mindspore.ops."):
            short = q.rsplit(".", 1)[-1]
            if short in ("reshape",) and len(pos) == 2 and len(expr.args) == 2:
                x = self._eval(pos[0].value, cell, env, local, prefix, state)
                return self._reshape(x, pos[1].value, cell, env, local, "reshape")
            if short == "flatten" and len(pos) == 1:
                x = self._eval(pos[0].value, cell, env, local, prefix, state)
                if x is None:
                    return None
                sd = ed = None
                for arg in expr.args:
                    if arg.keyword is not None and arg.keyword.value in ("start_dim", "end_dim"):
                        v = env.value(m, arg.value, site.scope, site.order) if site is not None else UNKNOWN
                        if arg.keyword.value == "start_dim":
                            sd = v
                        else:
                            ed = v
                    elif arg.keyword is not None:
                        return None
                return _flatten(x, 1 if sd is None else sd, -1 if ed is None else ed, "flatten")
            if short in _SAME_SHAPE_OPS and pos:
                return self._eval(pos[0].value, cell, env, local, prefix, state)
        return None

    def _reshape(self, x: Optional[_T], shape_expr: cst.BaseExpression, cell: CellClass, env: _Env,
                 local: Dict[str, Optional[_T]], label: str) -> Optional[_T]:
        if x is None or x.dims is None:
            return None
        if not isinstance(shape_expr, (cst.Tuple, cst.List)):
            return None
        dims: List[Optional[int]] = []
        for el in shape_expr.elements:
            if isinstance(el, cst.StarredElement):
                return None
            e = el.value
            if _is_batch_dim(e, local, x):
                dims.append(None)
                continue
            v = env.value(self.m, e, self.m.module_scope, None) if not _reads_local(e, local) else UNKNOWN
            if not isinstance(v, int) or isinstance(v, bool):
                return None
            dims.append(v)
        if not dims or dims[0] is not None and dims[0] != -1:
            return None  # the batch dimension must stay first
        per = x.dims[1:]
        if any(d is None for d in per):
            return None
        total = math.prod(per)  # type: ignore[arg-type]
        rest = dims[1:]
        if rest.count(-1) > 1 or any(d is None or d == 0 or (d < 0 and d != -1) for d in rest):
            return None
        if dims[0] == -1:
            if -1 in rest:
                return None
            if math.prod(rest) != total:  # type: ignore[arg-type]
                return None  # -1 takes the batch: a per-sample size that differs is not modelled
        elif -1 in rest:
            known = math.prod(d for d in rest if d != -1)  # type: ignore[misc]
            if total % known:
                return None
            rest = [total // known if d == -1 else d for d in rest]
        elif math.prod(rest) != total:  # type: ignore[arg-type]
            return None
        nd = (None,) + tuple(rest)
        out = _T.of(nd, x.path + (f"{label} {_txt(nd)}",))
        if len(rest) == 1:
            out.flat_from = per
        return out

    # -- entry ---------------------------------------------------------------------------------
    def run_network(self, net_site: CallSite, inp: _Input, state: dict) -> Optional[_T]:
        lay = self._layer_of_expr(net_site.node, net_site.scope, net_site.order, None)
        if lay is None or lay.kind not in ("cell", "seq"):
            return None
        t = _T.of(inp.dims, (_txt(inp.dims),))
        state["source"] = inp.source
        return self._apply(lay, t, net_site.target or "network" if lay.kind == "seq" else "", net_site.node,
                           state)


# -- helpers ---------------------------------------------------------------------------------
def _conv_out(x: int, k: int, s: int, d: int, mode: str, pad: Tuple[int, int], ceil_mode: bool) -> Optional[int]:
    if s <= 0 or k <= 0 or d <= 0:
        return None
    if mode == "same":
        return -(-x // s)
    eff = d * (k - 1) + 1
    if mode == "valid":
        return (x - eff) // s + 1 if x >= eff else None
    if mode == "pad":
        n = x + pad[0] + pad[1] - eff
        if n < 0:
            return None
        return (-(-n // s) if ceil_mode else n // s) + 1
    return None


def _flatten(t: _T, sd, ed, label: str) -> Optional[_T]:
    if t.dims is None or not isinstance(sd, int) or not isinstance(ed, int) or isinstance(sd, bool):
        return None
    n = len(t.dims)
    sd = sd + n if sd < 0 else sd
    ed = ed + n if ed < 0 else ed
    if not (0 <= sd <= ed < n):
        return None
    if sd == 0:
        return None  # folds the batch in: not modelled
    part = t.dims[sd:ed + 1]
    if any(d is None for d in part):
        return None
    nd = t.dims[:sd] + (math.prod(part),) + t.dims[ed + 1:]  # type: ignore[arg-type]
    out = _T.of(nd, t.path + (f"{label} {_txt(nd)}",))
    if sd == 1 and ed == n - 1:
        out.flat_from = part
    return out


def _binop(op, a: Optional[_T], b: Optional[_T]) -> Optional[_T]:
    if a is None or b is None or a.dims is None or b.dims is None:
        return None
    if not isinstance(op, (cst.Add, cst.Subtract, cst.Multiply, cst.AddAssign, cst.SubtractAssign,
                           cst.MultiplyAssign)):
        return None
    if a.dims != b.dims or None in a.dims[1:]:
        return None
    return a


def _is_number(e: cst.BaseExpression) -> bool:
    return isinstance(e, (cst.Integer, cst.Float))


def _names_in(node: cst.CSTNode) -> List[str]:
    out: List[str] = []

    class V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            out.append(n.value)

    node.visit(V())
    return out


def _has_return(node: cst.CSTNode) -> bool:
    found = []

    class V(cst.CSTVisitor):
        def visit_Return(self, n: cst.Return) -> None:
            found.append(n)

        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return False

    node.visit(V())
    return bool(found)


def _reads_local(e: cst.BaseExpression, local: Dict[str, Optional[_T]]) -> bool:
    return any(n in local or n == "self" for n in _names_in(e))


def _is_batch_dim(e: cst.BaseExpression, local: Dict[str, Optional[_T]], x: _T) -> bool:
    """`x.shape[0]` (or `ops.shape(x)[0]`) of a tracked tensor."""
    if not isinstance(e, cst.Subscript) or len(e.slice) != 1 or not isinstance(e.slice[0].slice, cst.Index):
        return False
    idx = e.slice[0].slice.value
    if not (isinstance(idx, cst.Integer) and idx.value == "0"):
        return False
    v = e.value
    if isinstance(v, cst.Attribute) and v.attr.value == "shape" and isinstance(v.value, cst.Name):
        return v.value.value in local
    return False


def _product_terms(e: cst.BaseExpression) -> int:
    if isinstance(e, cst.BinaryOperation) and isinstance(e.operator, cst.Multiply):
        return _product_terms(e.left) + _product_terms(e.right)
    return 1 if isinstance(e, cst.Integer) else 0 if not isinstance(e, cst.BinaryOperation) else -100


def _only_literals(e: cst.BaseExpression) -> bool:
    if isinstance(e, cst.Integer):
        return True
    if isinstance(e, cst.BinaryOperation):
        return _only_literals(e.left) and _only_literals(e.right)
    if isinstance(e, cst.Tuple):
        return False
    return False


def _literal_source(m: ScriptModel, expr: cst.BaseExpression, scope: Scope, env: Optional[_Env],
                    depth: int = 0):
    """(literal expression, its top-level statement, where) that sets `expr`'s value: the
    expression itself when made of integer literals, or the literal an `__init__`
    parameter is given at the Cell's instance call (or its default when the Cell is
    built once). None otherwise."""
    if depth > 6:
        return None
    if _only_literals(expr):
        return expr, None, ""
    if isinstance(expr, cst.Name) and env is not None and env.init is not None:
        b = m.lookup(expr.value, scope, None)
        if b is None or b.kind != "param":
            return None
        got = env.param_expr(m, b)
        if got is None:
            return None
        given, gscope, gorder, genv = got
        site = env.site
        assert site is not None
        if given is not None and any(given is x for x in [a.value for a in site.node.args]):
            if _only_literals(given):
                line = f", `{expr.value}` given at the `{env.cell.name if env.cell else ''}(...)` call"
                return given, site.top, line
            inner = _literal_source(m, given, gscope, genv, depth + 1)
            if inner is not None:
                return inner[0], inner[1], inner[2] or f", from `{expr.value}`"
            return None
        # the parameter's default
        if env.cell is not None and len(m.calls_to(env.cell.qualname)) == 1 and _only_literals(given):
            return given, env.cell.top, f", the default of `{expr.value}` in `{env.cell.name}`"
    return None


def _origin_for(m: ScriptModel, expr: cst.BaseExpression, site: CallSite, env: Optional[_Env]):
    """(expr, scope, order, the Cell it is given to or "") whose origin explains a layer
    argument's value, following `__init__` parameters to the instance call."""
    scope, order, given_to = site.scope, site.order, ""
    for _ in range(6):
        if not (isinstance(expr, cst.Name) and env is not None and env.init is not None):
            break
        b = m.lookup(expr.value, scope, None)
        if b is None or b.kind != "param":
            break
        got = env.param_expr(m, b)
        if got is None:
            return None
        name = env.cell.name if env.cell is not None else "the Cell"
        given = env.site is not None and any(got[0] is a.value for a in env.site.node.args)
        given_to = f"given to `{name}`" if given else f"as the default in `{name}`"
        expr, scope, order, env = got
    return expr, scope, order, given_to


# -- which Cell is the network, with which data and loss -------------------------------------
def _unwrap(m: ScriptModel, site: Optional[CallSite]):
    """(network site, loss site or None, wrapped) through WithLossCell / TrainOneStepCell."""
    loss = None
    for _ in range(4):
        if site is None:
            return None, None
        q = site.qualname or ""
        if q in ("mindspore.nn.TrainOneStepCell", "mindspore.nn.TrainOneStepWithLossScaleCell"):
            a = site.arg("network", 0)
            site = value_call(m, a.value, site.scope, site.order) if a is not None else None
            continue
        if q == "mindspore.nn.WithLossCell":
            a = site.arg("backbone", 0)
            lo = site.arg("loss_fn", 1)
            loss = value_call(m, lo.value, site.scope, site.order) if lo is not None else None
            site = value_call(m, a.value, site.scope, site.order) if a is not None else None
            return site, loss if loss is not None else False
        return site, None
    return None, None


def _uses(m: ScriptModel):
    """(network site, loss site or None, DatasetView) for each dataset given to a Model."""
    out = []
    for use in _data.dataset_uses(m):
        mc = use.model_call
        if mc is None or mc.has_star_args:
            continue
        a = mc.arg("network", MODEL_ARGS["network"])
        if a is None:
            continue
        site = value_call(m, a.value, mc.scope, mc.order)
        net, loss = _unwrap(m, site)
        if net is None:
            continue
        if loss is None:
            if mc.arg("loss_fn", MODEL_ARGS["loss_fn"]) is None:
                continue  # the network takes every column (its own loss): not followed
            loss = _data.loss_of_model(m, mc)
        out.append((net, loss or None, use.view, None, None))
    return out


# -- custom training loops ----------------------------------------------------------------------
_ITERATORS = ("create_tuple_iterator", "create_dict_iterator")


def _param_index(fn: cst.FunctionDef, name: str) -> Optional[int]:
    params = [*fn.params.posonly_params, *fn.params.params]
    for i, p in enumerate(params):
        if p.name.value == name:
            return i
    return None


def _callers(m: ScriptModel, info) -> List[CallSite]:
    """Calls of the module-level function `info`: direct, or through the function a
    `value_and_grad(fn, ...)`/`grad(fn, ...)` or `jit(fn)` call returns."""
    from msfix.analysis.training import GRAD_FUNCS

    out = list(m.calls_to(f"<local>.{info.name}"))
    wrappers = []
    for site in m.calls:
        q = site.qualname or ""
        if q in GRAD_FUNCS or (q.startswith("mindspore") and q.rsplit(".", 1)[-1] == "jit"):
            a = site.arg("fn", 0)
            if a is not None and isinstance(a.value, cst.Name):
                b = m.lookup(a.value.value, site.scope, site.order)
                if b is not None and b.node is info.node:
                    wrappers.append(site)
    for w in wrappers:
        for site in m.calls:
            f = site.node.func
            if isinstance(f, cst.Name):
                b = m.lookup(f.value, site.scope, site.order)
                if b is not None and b.kind == "assign" and b.value is w.node \
                        and len(b.scope.bindings.get(f.value, ())) == 1:
                    out.append(site)
    return out


def _arg_sources(m: ScriptModel, fn_info, indexes: Tuple[int, ...], depth: int = 0) -> list:
    """[(DatasetView, [column per index])] for the data reaching parameters `indexes` of a
    module-level function, through its callers, down to a loop over a dataset iterator."""
    if depth > 4:
        return []
    out = []
    for site in _callers(m, fn_info):
        if site.has_star_args or any(a.keyword is not None for a in site.node.args):
            continue
        exprs = []
        for i in indexes:
            a = site.positional(i)
            exprs.append(a.value if a is not None else None)
        if any(e is None for e in exprs):
            continue
        got = _columns_of(m, exprs, site, depth)
        out.extend(got)
    return out


def _columns_of(m: ScriptModel, exprs, site: CallSite, depth: int) -> list:
    """The dataset columns the expressions at a call hold: loop variables over one
    `ds.create_tuple_iterator()` / `create_dict_iterator()` (`batch["image"]`), or the
    parameters of the enclosing function, followed to its callers."""
    names: List[Tuple[str, Optional[str]]] = []
    for e in exprs:
        if isinstance(e, cst.Name):
            names.append((e.value, None))
        elif isinstance(e, cst.Subscript) and isinstance(e.value, cst.Name) and len(e.slice) == 1 \
                and isinstance(e.slice[0].slice, cst.Index) and isinstance(e.slice[0].slice.value, cst.SimpleString):
            k = e.slice[0].slice.value.evaluated_value
            if not isinstance(k, str):
                return []
            names.append((e.value.value, k))
        else:
            return []
    binds = [m.lookup(n, site.scope, site.order) for n, _ in names]
    if any(b is None for b in binds):
        return []
    if all(b.kind == "param" for b in binds) and all(k is None for _, k in names):  # type: ignore[union-attr]
        fscope = binds[0].scope  # type: ignore[union-attr]
        fn = fscope.node
        if not isinstance(fn, cst.FunctionDef) or any(b.scope is not fscope for b in binds):  # type: ignore
            return []
        info = m.functions.get(fn.name.value)
        if info is None or info.node is not fn:
            return []
        if any(len(fscope.bindings.get(n, ())) != 1 for n, _ in names):
            return []
        idx = tuple(_param_index(fn, n) for n, _ in names)
        if any(i is None for i in idx):
            return []
        return _arg_sources(m, info, idx, depth + 1)  # type: ignore[arg-type]
    if not all(b.kind == "loop" and isinstance(b.statement, cst.For) for b in binds):  # type: ignore[union-attr]
        return []
    loop = binds[0].statement  # type: ignore[union-attr]
    if any(b.statement is not loop for b in binds) or any(  # type: ignore[union-attr]
            len(b.scope.bindings.get(b.name, ())) != 1 for b in binds):  # type: ignore[union-attr]
        return []
    assert isinstance(loop, cst.For)
    it: cst.BaseExpression = loop.iter
    target: cst.BaseExpression = loop.target
    if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "enumerate" and it.args:
        it = it.args[0].value
        if not (isinstance(target, cst.Tuple) and len(target.elements) == 2):
            return []
        target = target.elements[1].value
    kind = "tuple"
    if isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value in _ITERATORS:
        kind = "dict" if it.func.attr.value == "create_dict_iterator" else "tuple"
        if any(a.keyword is not None and a.keyword.value == "columns" for a in it.args):
            return []
        it = it.func.value
    loop_site = binds[0]
    out = []
    for view in _views_of(m, it, loop_site.scope, loop_site.order, depth):  # type: ignore[union-attr]
        cols = _data.stage_columns(m, view.pipe, view.env)
        if not isinstance(cols, list):
            continue
        out_cols = []
        for n, key in names:
            if kind == "dict":
                if key is None or not isinstance(target, cst.Name) or target.value != n or key not in cols:
                    break
                out_cols.append(key)
                continue
            if key is not None or not isinstance(target, (cst.Tuple, cst.List)) \
                    or len(target.elements) != len(cols):
                break
            pos = [i for i, el in enumerate(target.elements)
                   if isinstance(el.value, cst.Name) and el.value.value == n]
            if len(pos) != 1:
                break
            out_cols.append(cols[pos[0]])
        else:
            out.append((view, out_cols))
    return out


def _views_of(m: ScriptModel, expr: cst.BaseExpression, scope: Scope, order: Optional[int], depth: int) -> list:
    """The datasets `expr` holds: its own pipeline, or for a parameter of a module-level
    function (bound once), the datasets its callers give it."""
    view = _data.dataset_view(m, expr, scope, order)
    if view is not None:
        return [view]
    if depth > 4 or not isinstance(expr, cst.Name):
        return []
    b = m.lookup(expr.value, scope, order)
    if b is None or b.kind != "param" or not isinstance(b.scope.node, cst.FunctionDef) \
            or len(b.scope.bindings.get(expr.value, ())) != 1:
        return []
    fn = b.scope.node
    info = m.functions.get(fn.name.value)
    if info is None or info.node is not fn:
        return []
    i = _param_index(fn, expr.value)
    out = []
    for site in m.calls_to(f"<local>.{info.name}"):
        if site.has_star_args or i is None:
            continue
        a = site.arg(expr.value, i)
        if a is not None:
            out.extend(_views_of(m, a.value, site.scope, site.order, depth + 1))
    return out


def _loop_uses(m: ScriptModel):
    """(network site, loss site or None, view, image column, label column) for a network
    called in a module-level function (`logits = net(data)` in a forward function) whose
    arguments come from a loop over a dataset iterator, through the train step and
    `value_and_grad` that call it."""
    out = []
    net_info = _network(m)
    for info in m.functions.values():
        for site in net_info.calls_in(info.node):
            f = site.node.func
            if not isinstance(f, cst.Name) or site.has_star_args or len(site.node.args) != 1 \
                    or site.node.args[0].keyword is not None:
                continue
            x = site.node.args[0].value
            if not isinstance(x, cst.Name):
                continue
            net = value_call(m, f, site.scope, site.order)
            if net is None or not net.qualname or not (
                    net.qualname == "mindspore.nn.SequentialCell"
                    or net.qualname.startswith("<local>.") and net.qualname[8:] in m.cells):
                continue
            bx = m.lookup(x.value, site.scope, site.order)
            if bx is None or bx.kind != "param" or bx.scope is not info.scope \
                    or len(info.scope.bindings.get(x.value, ())) != 1:
                continue
            ix = _param_index(info.node, x.value)
            if ix is None:
                continue
            loss, il = _loop_loss(m, info, site)
            idx = (ix,) if il is None else (ix, il)
            for view, cols in _arg_sources(m, info, idx):
                out.append((net, loss if il is not None else None, view, cols[0],
                            cols[1] if il is not None else None))
    return out


def _loop_loss(m: ScriptModel, info, net_call: CallSite):
    """(loss site, index of the label parameter) when the function computes
    `loss_fn(net(x), label)` (or through a name bound to `net(x)`) with a label parameter."""
    out_names = set()
    for name, bs in info.scope.bindings.items():
        if len(bs) == 1 and bs[0].kind == "assign" and bs[0].value is net_call.node:
            out_names.add(name)
    for site in _network(m).calls_in(info.node):
        if site is net_call or len(site.node.args) != 2 or site.has_star_args \
                or any(a.keyword is not None for a in site.node.args):
            continue
        first, second = site.node.args[0].value, site.node.args[1].value
        if not (first is net_call.node or isinstance(first, cst.Name) and first.value in out_names):
            continue
        loss = value_call(m, site.node.func, site.scope, site.order)
        if loss is None or loss.qualname not in SPARSE_LOSSES or not isinstance(second, cst.Name):
            continue
        b = m.lookup(second.value, site.scope, site.order)
        if b is None or b.kind != "param" or b.scope is not info.scope \
                or len(info.scope.bindings.get(second.value, ())) != 1:
            continue
        i = _param_index(info.node, second.value)
        if i is not None:
            return loss, i
    return None, None


def _label_classes(m: ScriptModel, pipe: Pipeline, env, col: Optional[str] = None) -> Optional[Tuple[int, str]]:
    """(number of classes, column) of the label column of a two-column pipeline, when its
    values are the source's own (no filter, sampler or transform other than a cast)."""
    if col is None:
        col = _data.label_column(m, pipe, env)
    cols = _data.stage_columns(m, pipe, env)
    if col is None or not isinstance(cols, list) or col not in cols:
        return None
    src = _data.source_columns(m, pipe.source, env)
    if src is UNKNOWN or col not in src:  # type: ignore[operator]
        return None
    classes = src[col].get("classes")  # type: ignore[index]
    if not isinstance(classes, int):
        return None
    call = pipe.source.call
    if call.has_star_args or call.keyword("sampler") is not None:
        return None
    if any(st.op in ("filter", "concat", "zip", "split") for st in pipe.stages()):
        return None
    for ev in _data.column_events(m, pipe, col, env):
        if ev.kind == "unknown":
            return None
        if ev.kind != "op" or ev.op is None:
            continue
        if ev.op.short not in ("TypeCast", "ToType"):
            return None
        # a cast to float: class probabilities for nn.CrossEntropyLoss, not indices
        arg = ev.op.call.args[0].value if ev.op.call is not None and ev.op.call.args else None
        dt = _data.dtype_name(m, arg, ev.op.scope, ev.op.order, env) if arg is not None else None  # type: ignore[arg-type]
        if dt is None or not dt.startswith(("int", "uint")):
            return None
    return classes, col


def _sparse_loss(m: ScriptModel, loss: Optional[CallSite]) -> bool:
    if loss is None or loss.has_star_args:
        return False
    q = loss.qualname or ""
    if q == "mindspore.nn.SoftmaxCrossEntropyWithLogits":
        a = loss.arg("sparse", 0)
        return a is not None and m.literal(a.value, loss.scope, loss.order) is True
    if q in ("mindspore.nn.CrossEntropyLoss", "mindspore.nn.NLLLoss"):
        return True
    return False


def _compute(m: ScriptModel) -> _Shapes:
    sh = _Shapes(m)
    if not m.cells and not m.calls_to("mindspore.nn.SequentialCell"):
        return sh
    done = set()
    for net, loss, view, img_col, label_col in _uses(m) + _loop_uses(m):
        inp = _network_input(m, view.pipe, view.env, img_col)
        key = (id(net.node), id(view.pipe), tuple(sorted(id(v.node) for v in view.env.values())))
        if key in done:
            continue
        done.add(key)
        state: dict = {}
        t = sh.run_network(net, inp, state) if inp is not None else _output_only(sh, net)
        if t is None or t.last is None or t.producer is None:
            continue
        if not _sparse_loss(m, loss):
            continue
        got = _label_classes(m, view.pipe, view.env, label_col)
        if got is None:
            continue
        classes, col = got
        lsite, lenv, label = t.producer
        if t.dims is not None and len(t.dims) != 2:
            continue
        cl = Classifier(lsite, label, t.last, classes, view.pipe.source.call, col, loss)  # type: ignore[arg-type]
        a = lsite.arg("out_channels" if nn_class(lsite.qualname) == "Dense" else "out_features", 1)
        if a is not None:
            got2 = _literal_source(m, a.value, lsite.scope, lenv)
            if got2 is not None:
                cl.fix_expr, cl.fix_top, cl.origin = got2
            else:
                cl.origin_at = _origin_for(m, a.value, lsite, lenv)
        ckey = (id(lsite.node), classes, ())
        if ckey not in done:
            done.add(ckey)
            sh.classifiers.append(cl)
    return sh


def _output_only(sh: _Shapes, net: CallSite) -> Optional[_T]:
    """The network's output when its input shape is unknown: only a final Dense tells."""
    lay = sh._layer_of_expr(net.node, net.scope, net.order, None)
    if lay is None or lay.kind not in ("cell", "seq"):
        return None
    return sh._apply(lay, _T(None), net.target or "network" if lay.kind == "seq" else "", net.node,
                     {"mismatch": True})


def shapes(m: ScriptModel) -> _Shapes:
    return m.cached("shapes", lambda: _compute(m))


def layer_inputs(m: ScriptModel) -> List[LayerInput]:
    """Every layer application in the network's `construct` whose input shape follows from
    the dataset, with the size it expects, what reaches it, and the shape path."""
    return shapes(m).inputs


def classifiers(m: ScriptModel) -> List[Classifier]:
    """Networks whose output size and the class count of their sparse loss's labels are known."""
    return shapes(m).classifiers


def network_out_size(m: ScriptModel, model_call: Optional[CallSite]) -> Optional[int]:
    """The output size (last dim, set by the final Dense) of the network a `Model(...)`
    call is given, or None when it does not follow from the script."""
    if model_call is None or model_call.has_star_args:
        return None

    def compute() -> Optional[int]:
        a = model_call.arg("network", MODEL_ARGS["network"])
        if a is None:
            return None
        net, _ = _unwrap(m, value_call(m, a.value, model_call.scope, model_call.order))
        if net is None:
            return None
        t = _output_only(_Shapes(m), net)  # a fresh walk: the shared one's records stay as they are
        if t is None or t.last is None or t.producer is None or (t.dims is not None and len(t.dims) != 2):
            return None
        return t.last

    return m.cached(f"out_size:{id(model_call.node)}", compute)


def label_for_output(m: ScriptModel, pipe: Pipeline, candidates: Sequence[str]) -> Optional[str]:
    """The one column of `candidates` whose class count (dataset facts; integer labels)
    equals the output size of the network of every `Model` given a dataset built on
    `pipe`, the same column for every such use; None when not certain."""
    found: Optional[str] = None
    seen = False
    for use in _data.dataset_uses(m):
        v = use.view
        if not any(st is pipe for st in v.pipe.stages()):
            continue
        seen = True
        out = network_out_size(m, use.model_call)
        if out is None:
            return None
        hits = []
        for c in candidates:
            got = _label_classes(m, v.pipe, v.env, c)
            if got is not None and got[0] == out:
                hits.append(c)
        if len(hits) != 1 or (found is not None and hits[0] != found):
            return None
        found = hits[0]
    return found if seen else None
