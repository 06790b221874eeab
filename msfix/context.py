"""The views a rule reads the script model through: the one door from `rules/` into
the analysis and the knowledge.

A rule gets a `RuleContext` (msfix/rule.py) and asks it:

    ctx.data       datasets and pipelines: roles (train / eval, decided once), sizes,
                   batches, columns with their dtype / layout / scale state
    ctx.network    Cells, layers, compiled functions, graph mode
    ctx.training   Model, loss, optimizers, callbacks, train and eval calls, devices
    ctx.api        the API index bound to the one resolved target version
    ctx.values     the value of an expression, and where it comes from

Each view is a thin, documented layer over `msfix/analysis/*` and `msfix/knowledge/*`,
bound to the file's model; the work and the caching (`ScriptModel.cached`) live there.
A rule module imports only `msfix.rule`, `msfix.diagnostics`, `msfix.fixes`, this
module (for the types and constants below) and its own family's helpers
(tests/test_rule_layout.py enforces it).
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from msfix.analysis import columns as _columns
from msfix.analysis import data as _data
from msfix.analysis import network as _network
from msfix.analysis import training as _training
from msfix.analysis import values as _values
from msfix.analysis.builder import free_names as _free_names
from msfix.analysis.walk import children  # noqa: F401  (for rules: a node's children, fast)
from msfix.analysis.columns import ColState, OpState
from msfix.analysis.data import (BATCH_ARGS, EVAL, FLOAT_DTYPES, INT_DTYPES, MAP_ARGS, SOURCE_ARGS, TRAIN,
                                 ArrayInfo, DatasetUse, DatasetView, Event, MapOp)
from msfix.analysis.model import UNKNOWN, CallSite, CellClass, Pipeline, Scope, ScriptModel
from msfix.analysis.network import (NUMPY_REDUCTIONS, PARAMETERIZED_NN, RANDOM_PREFIXES, TIME_CALLS,
                                    CompiledFunction, NetworkInfo)
from msfix.analysis.training import (EVAL_QUALNAMES, GRAD_FUNCS, MODEL_ARGS, MODEL_QUALNAMES, TRAIN_QUALNAMES,
                                     AttributeRead, ModelInfo, OptimizerInfo)
from msfix.knowledge import api_queries as _aq
from msfix.knowledge import facts as _facts
from msfix.knowledge.api import ApiIndex, Signature, load_index, load_torch_table, version_key

__all__ = [
    "UNKNOWN", "TRAIN", "EVAL", "CallSite", "CellClass", "Pipeline", "Scope", "ScriptModel",
    "BATCH_ARGS", "MAP_ARGS", "SOURCE_ARGS", "INT_DTYPES", "FLOAT_DTYPES", "ArrayInfo", "DatasetUse",
    "DatasetView", "Event", "MapOp", "ColState", "OpState",
    "NUMPY_REDUCTIONS", "PARAMETERIZED_NN", "RANDOM_PREFIXES", "TIME_CALLS", "CompiledFunction", "NetworkInfo",
    "EVAL_QUALNAMES", "GRAD_FUNCS", "MODEL_ARGS", "MODEL_QUALNAMES", "TRAIN_QUALNAMES", "AttributeRead",
    "ModelInfo", "OptimizerInfo", "ApiIndex", "Signature",
    "DataView", "NetworkView", "TrainingView", "ApiView", "ValuesView", "free_names", "is_number",
    "version_key",
]

Env = Dict[Any, CallSite]


def free_names(expr: cst.CSTNode, enter_lambdas: bool = False) -> List[cst.Name]:
    """Names read by `expr` that it does not bind itself (lambda parameters,
    comprehension targets)."""
    return _free_names(expr, enter_lambdas)


def is_number(v: object) -> bool:
    """A literal int or float (not a bool)."""
    return _training.is_number(v)


# ---------------------------------------------------------------------------- data
class DataView:
    """Datasets and their pipelines (`model.pipelines`: each stage a `Pipeline` with its
    source, op and call). `env` arguments are helper-function call contexts from
    `contexts(pipe)`: the same pipeline built by a helper called from two places is
    seen once per call."""

    TRAIN = TRAIN
    EVAL = EVAL
    UNKNOWN = UNKNOWN

    def __init__(self, model: ScriptModel) -> None:
        self.m = model

    # roles
    def role_of(self, pipe: Pipeline) -> str:
        """train / eval / unknown for the data at stage `pipe`, decided once from how it
        is used (Model.train/eval, training-step loops, eval loops, helper branches...)."""
        return _data.role_of(self.m, pipe)

    def call_role(self, site: CallSite) -> str:
        """train / eval / unknown for the dataset one call of a helper function returns."""
        return _data.call_role(self.m, site)

    def uses(self) -> List[DatasetUse]:
        """Each dataset passed to Model.train / eval / fit, with the Model call."""
        return _data.dataset_uses(self.m)

    def loop_label_losses(self) -> List[Any]:
        """Losses a `for ... in data.create_tuple_iterator()` loop calls on a row column (LoopLoss)."""
        return _data.loop_label_losses(self.m)

    def sources_reaching_network(self) -> List[Tuple[Pipeline, List[Pipeline]]]:
        """(source, leaves) for each dataset source whose pipelines are passed to
        Model.train / Model.eval / Model.fit."""
        return _columns.sources_reaching_network(self.m)

    # structure
    def contexts(self, pipe: Pipeline, limit: int = 16) -> List[Env]:
        """One environment per combination of call sites of the helper functions that
        build `pipe` ({} when none)."""
        return _data.contexts(self.m, pipe, limit)

    def view(self, expr: Optional[cst.BaseExpression], scope: Scope,
             order: Optional[int] = None) -> Optional[DatasetView]:
        """The pipeline `expr` holds, with the helper-call environment that built it."""
        return _data.dataset_view(self.m, expr, scope, order)

    def downstream(self, pipe: Pipeline) -> List[CallSite]:
        """The calls the data of `pipe` flows through (derived stages, zip/concat)."""
        return _data.downstream(self.m, pipe)

    def downstream_of_call(self, site: CallSite) -> List[CallSite]:
        """The calls the dataset one helper call returns flows through, at that call."""
        return _data.downstream_of_call(self.m, site)

    def later_shuffle(self, pipe: Pipeline) -> bool:
        """Is the data of `pipe` shuffled by a later `shuffle` stage (also after zip/concat)?"""
        return _data.later_shuffle(self.m, pipe)

    def first_batch(self, pipe: Pipeline) -> Optional[Pipeline]:
        """The first batch stage on the way to `pipe`, or None."""
        return _data.first_batch(pipe)

    def common_first_batch(self, leaves: List[Pipeline]) -> Optional[Pipeline]:
        """The batch stage all leaves go through first, if they share one."""
        return _columns.common_first_batch(leaves)

    def in_branch(self, site: CallSite) -> bool:
        """Is `site` inside an `if` of its function (or module) body?"""
        return _data.in_branch(self.m, site)

    def call_sites(self, scope: Scope) -> List[CallSite]:
        """Direct calls, in the script, of the module-level function whose scope is `scope`."""
        return _data.call_sites(self.m, scope)

    def returned_calls(self, site: CallSite) -> List[CallSite]:
        """The calls whose results the script function called at `site` returns ([] otherwise)."""
        return _data.returned_calls(self.m, site)

    def param_arg(self, site: CallSite, fn: cst.FunctionDef, pname: str):
        """(expr given for parameter `pname` at `site`, or None when not given) or UNKNOWN."""
        return _data.param_arg(site, fn, pname)

    # arguments and sizes
    def arg_of(self, site: CallSite, name: str, table: dict) -> Optional[cst.Arg]:
        """The argument of `site` for parameter `name` (by keyword or by position from
        `table`, e.g. SOURCE_ARGS / BATCH_ARGS / MAP_ARGS)."""
        return _data.arg_of(site, name, table)

    def literal_arg(self, site: CallSite, name: str, table: dict, default=UNKNOWN, env: Optional[Env] = None):
        """The value of that argument, `default` when it is not given, UNKNOWN when unknown."""
        return _data.literal_arg(self.m, site, name, table, default, env)

    def source_arg(self, source: Pipeline, name: str) -> Optional[cst.Arg]:
        """The argument `name` of a dataset source call."""
        return _data.source_arg(source, name)

    def source_value(self, source: Pipeline, name: str, default=UNKNOWN, env: Optional[Env] = None):
        """The value of a source argument (`default` when not given)."""
        return _data.source_value(self.m, source, name, default, env)

    def source_usage(self, source: Pipeline, env: Optional[Env] = None):
        """The literal `usage` of a source (None when not given), or UNKNOWN."""
        return _data.source_usage(self.m, source, env)

    def source_size(self, source: Pipeline, env: Optional[Env] = None):
        """Number of rows a source yields, or UNKNOWN."""
        return _data.source_size(self.m, source, env)

    def batch_size(self, stage: Pipeline, env: Optional[Env] = None):
        """The batch size of a batch stage, or UNKNOWN."""
        return _data.batch_size(self.m, stage, env)

    def drop_remainder(self, stage: Pipeline, env: Optional[Env] = None):
        """`drop_remainder` of a batch stage (False when not given), or UNKNOWN."""
        return _data.drop_remainder(self.m, stage, env)

    def rows_after(self, pipe: Pipeline, env: Optional[Env] = None):
        """Number of rows (batches, after a batch stage) one pass over `pipe` yields."""
        return _data.rows_after(self.m, pipe, env)

    def rows_from(self, pipe: Pipeline, size: int, env: Optional[Env] = None):
        """Number of rows one pass over `pipe` yields when its source yields `size` rows."""
        return _data.rows_from(self.m, pipe, size, env)

    def steps_per_epoch(self, pipe: Pipeline, env: Optional[Env] = None):
        """Number of rows (batches) one epoch of `pipe` yields, or UNKNOWN."""
        return _data.steps_per_epoch(self.m, pipe, env)

    def rows_origin(self, pipe: Pipeline, env: Optional[Env] = None) -> Optional[cst.CSTNode]:
        """The expression that fixed the number of rows of `pipe` (array maker, slice, range(n), take...)."""
        return _data.rows_origin(self.m, pipe, env)

    def stage_runs(self, stage: Pipeline, env: Optional[Env] = None) -> bool:
        """False when the `if` branch `stage` is built in is not taken for the helper call in `env`."""
        return _data.stage_runs(self.m, stage, env)

    def value(self, expr: Optional[cst.BaseExpression], scope: Scope, order: Optional[int] = None,
              env: Optional[Env] = None):
        """The literal value of `expr`, reading helper parameters from `env`, or UNKNOWN."""
        return _data.value(self.m, expr, scope, order, env)

    def array_info(self, expr: Optional[cst.BaseExpression], scope: Scope, order: Optional[int] = None,
                   env: Optional[Env] = None) -> Optional[ArrayInfo]:
        """Shape and dtype of a NumPy array the script builds, when they follow from literals."""
        return _data.array_info(self.m, expr, scope, order, env)

    # transforms and columns
    def map_ops(self, stage: Pipeline):
        """The transforms of a `map` stage, or UNKNOWN (also when one is not a MindSpore op)."""
        return _data.map_ops(self.m, stage)

    def map_ops_partial(self, stage: Pipeline):
        """The transforms of a `map` stage in order; unknown callables kept as unknown ops."""
        return _data.map_ops_partial(self.m, stage)

    def maps_on_column(self, pipe: Pipeline, column: str, before: Optional[Pipeline] = None,
                       env: Optional[Env] = None):
        """[(stage, ops)] of the map stages that touch `column` (before stage `before`), or UNKNOWN."""
        return _data.maps_on_column(self.m, pipe, column, before, env)

    def column_events(self, pipe: Pipeline, column: str, env: Optional[Env] = None) -> List[Event]:
        """The transforms applied to `column` along `pipe`, in order, with the batch stages."""
        return _data.column_events(self.m, pipe, column, env)

    def column_dtype(self, pipe: Pipeline, column: str, env: Optional[Env] = None) -> Optional[str]:
        """dtype of `column` at the end of `pipe` when casts and sources tell it, else None."""
        return _data.column_dtype(self.m, pipe, column, env)

    def label_column(self, pipe: Pipeline, env: Optional[Env] = None) -> Optional[str]:
        """The column a `Model` with a loss reads labels from."""
        return _data.label_column(self.m, pipe, env)

    def source_columns(self, source: Pipeline, env: Optional[Env] = None):
        """{column: spec (dtype, layout, ...)} as the source yields them, or UNKNOWN."""
        return _data.source_columns(self.m, source, env)

    def generator_rows(self, source: Pipeline, env: Optional[Env] = None) -> Optional[List[Optional[ArrayInfo]]]:
        """[ArrayInfo or None per column] a GeneratorDataset's local generator (or class) yields, or None."""
        return _data.generator_rows(self.m, source, env)

    def stage_columns(self, pipe: Optional[Pipeline], env: Optional[Env] = None):
        """Column names after `pipe` (project/rename and map output_columns followed), or UNKNOWN."""
        return _data.stage_columns(self.m, pipe, env)

    def names(self, v) -> Any:
        """A column-name value (str or list of str) as a list, or UNKNOWN."""
        return _data._names(v)

    def op_states(self) -> List[OpState]:
        """Every known transform applied to a single column, with the column's state
        (dtype, layout, scale) before it."""
        return _columns.op_states(self.m)

    def final_state(self, pipe: Pipeline, column: str, env: Env) -> Optional[ColState]:
        """The state of `column` at the end of `pipe` (None when a step is unknown)."""
        return _columns.final_state(self.m, pipe, column, env)

    def loss_of_model(self, model_call: Optional[CallSite]) -> Optional[CallSite]:
        """The call that built the loss passed to a `Model(...)` call."""
        return _data.loss_of_model(self.m, model_call)

    @staticmethod
    def call_arg(call: cst.Call, name: str, index: int) -> Optional[cst.BaseExpression]:
        """The argument value of a call for parameter `name` (keyword, or position `index`)."""
        return _columns.arg(call, name, index)


# ------------------------------------------------------------------------- network
class NetworkView:
    """The Cells the script defines (`model.cells`), the layers they build, the functions
    MindSpore compiles (construct in GRAPH_MODE, @jit) and what they call."""

    def __init__(self, model: ScriptModel) -> None:
        self.m = model

    @property
    def info(self) -> NetworkInfo:
        """The network analysis: cell chains, methods, compiled functions, calls in them."""
        return _network.network(self.m)

    def compiled(self) -> List[CompiledFunction]:
        """Functions MindSpore compiles to a graph (construct under GRAPH_MODE, @jit...)."""
        return self.info.compiled()

    def tensor_names(self, fn: cst.FunctionDef, params: bool) -> Set[str]:
        """Local names of `fn` that hold a Tensor at every binding (its inputs too when `params`)."""
        return self.info.tensor_names(fn, params)

    def is_tensor_expr(self, expr: cst.BaseExpression, names: Set[str]) -> bool:
        """`expr` gives a Tensor, given the Tensor-holding locals `names` (see tensor_names)."""
        return self.info.is_tensor_expr(expr, names)

    def graph_mode(self) -> bool:
        """Does the script set GRAPH_MODE with a literal `set_context(mode=...)`?"""
        return _columns.graph_mode(self.m)

    @staticmethod
    def nn_class(qualname: Optional[str]) -> Optional[str]:
        """`mindspore.nn.Conv2d` (or an old path to it) -> "Conv2d"; None for others."""
        return _network.nn_class(qualname)

    @staticmethod
    def walk_body(fn: cst.FunctionDef) -> Iterator[cst.CSTNode]:
        """Every node of a function body, not entering nested functions, classes or lambdas."""
        return _network.walk_body(fn)

    def layer_inputs(self) -> List[Any]:
        """Layer applications in the network's construct whose input shape follows from the dataset (shapes.LayerInput)."""
        from msfix.analysis import shapes as _shapes
        return _shapes.layer_inputs(self.m)

    def classifiers(self) -> List[Any]:
        """Networks whose output size and their sparse loss's class count are both known (shapes.Classifier)."""
        from msfix.analysis import shapes as _shapes
        return _shapes.classifiers(self.m)

    def out_size(self, model_call: Optional[CallSite]) -> Optional[int]:
        """The output size of the network a `Model(...)` call is given (its final Dense), or None."""
        from msfix.analysis import shapes as _shapes
        return _shapes.network_out_size(self.m, model_call)

    def label_for_output(self, pipe: Pipeline, candidates: List[str]) -> Optional[str]:
        """The one candidate label column whose class count equals the output size of the network every Model trains on `pipe`, or None."""
        from msfix.analysis import shapes as _shapes
        return _shapes.label_for_output(self.m, pipe, candidates)


# ------------------------------------------------------------------------ training
class TrainingView:
    """Model, losses, optimizers, callbacks, train and eval calls, devices, and what a
    value is (a Cell, a Tensor, an optimizer)."""

    def __init__(self, model: ScriptModel) -> None:
        self.m = model

    def model_of(self, site: CallSite) -> Optional[ModelInfo]:
        """The `Model(...)` call behind the receiver of a Model method call."""
        return _training.model_of(self.m, site)

    def train_dataset(self, train: CallSite) -> Optional[Pipeline]:
        """The dataset a Model.train call trains on."""
        return _training.train_dataset(self.m, train)

    def train_call_of(self, cb: CallSite) -> Optional[CallSite]:
        """The Model.train / Model.fit call whose callbacks include the callback built by `cb`."""
        return _training.train_call_of(self.m, cb)

    def batch_size_of(self, pipe: Pipeline):
        """The batch size of the data `pipe` yields, or UNKNOWN."""
        return _training.batch_size_of(self.m, pipe)

    def optimizers(self) -> List[OptimizerInfo]:
        """Optimizers with a momentum term built in the script, with their lr and momentum."""
        return _training.optimizers(self.m)

    def trains_with_optimizer(self, opt: CallSite) -> List[CallSite]:
        """Model.train calls of Models built with the optimizer created by `opt`."""
        return _training.trains_with_optimizer(self.m, opt)

    def device_targets(self) -> List[object]:
        """Device targets the script sets (set_context(device_target=...), set_device)."""
        return _training.device_targets(self.m)

    def torch_attribute_reads(self) -> List[AttributeRead]:
        """Reads of `x.grad`, `x.is_cuda`, `x.param_groups` on dotted names."""
        return _training.torch_attribute_reads(self.m)

    # what a value is
    def cell_type(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int]) -> Optional[str]:
        """Qualname of the Cell class `expr` is an instance of ("<local>.Net" or a MindSpore class)."""
        return _training.cell_type(self.m, expr, scope, order)

    def site_cell_type(self, site: CallSite) -> Optional[str]:
        """`cell_type` for the call that built a value."""
        return _training.site_cell_type(self.m, site)

    def cell_lacks(self, cell_q: str, method: str) -> bool:
        """The Cell class `cell_q` is known not to have `method`."""
        return _training.cell_lacks(self.m, cell_q, method)

    def is_tensor(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int]) -> bool:
        """`expr` is known to hold a MindSpore Tensor."""
        return _training.is_tensor(self.m, expr, scope, order)

    def optimizer_type(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int]) -> Optional[str]:
        """Qualname of the MindSpore optimizer class `expr` holds, or None."""
        return _training.optimizer_type(self.m, expr, scope, order)

    @staticmethod
    def is_optimizer_class(q: Optional[str]) -> bool:
        """A MindSpore optimizer class."""
        return _training.is_optimizer_class(q)

    def value_call(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int]) -> Optional[CallSite]:
        """The call whose result `expr` holds (following simple name bindings)."""
        return _training.value_call(self.m, expr, scope, order)

    def receiver_calls(self, expr: cst.BaseExpression, scope: Scope,
                       order: Optional[int]) -> Optional[List[CallSite]]:
        """The calls whose result `expr` may hold (parameters: every call site's argument)."""
        return _training.receiver_calls(self.m, expr, scope, order)

    def unique_binding(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """`expr` is `name` or `self.x` whose name is bound once where it resolves."""
        return _training.unique_binding(self.m, expr, scope)


# ----------------------------------------------------------------------------- api
class ApiView:
    """The shipped MindSpore API index, bound to the one target version resolved for
    this file (msfix/target.py). Versions are compared as versions (`version_key`)."""

    def __init__(self, model: ScriptModel, target_version: Optional[str]) -> None:
        self.m = model
        self.index: ApiIndex = load_index()
        self.version: str = self.index.resolve_version(target_version)

    # the target version
    @property
    def short_version(self) -> str:
        """'2.10.0' -> '2.10'."""
        return _aq.short(self.version)

    @staticmethod
    def short(version: str) -> str:
        """'2.10.0' -> '2.10'; dev snapshots keep their label."""
        return _aq.short(version)

    def at_least(self, version: str) -> bool:
        """The target version is `version` or later."""
        return version_key(self.version) >= version_key(version)

    # questions about a qualified name, at the target version
    def exists(self, qualname: str) -> Optional[bool]:
        """Does `qualname` exist in the target version (None: the index cannot tell)?"""
        return self.index.exists(qualname, self.version)

    def kind(self, qualname: str) -> Optional[str]:
        """"module" / "class" / "function" / ... in the target version, or None."""
        return self.index.kind(qualname, self.version)

    def signature(self, qualname: str) -> Optional[Signature]:
        """The signature of a function or a class's `__init__` in the target version."""
        return self.index.signature(qualname, self.version)

    def added_in(self, qualname: str) -> Optional[str]:
        """The first indexed release that has `qualname`."""
        return self.index.added_in(qualname)

    def removed_in(self, qualname: str) -> Optional[str]:
        """The first indexed release after the last one that has `qualname`."""
        return self.index.removed_in(qualname)

    @property
    def versions(self) -> Tuple[str, ...]:
        """The indexed releases, oldest first."""
        return tuple(self.index.versions)

    def versions_of(self, qualname: str) -> Tuple[str, ...]:
        """The indexed releases that have `qualname` (empty: no release has it)."""
        return tuple(self.index.versions_of(qualname))

    def present_since(self, qualname: str) -> Optional[str]:
        """The first release from which `qualname` is in every release up to the target."""
        return _aq.present_since(self.index, qualname, self.version)

    def members(self, qualname: str) -> frozenset:
        """The public names of module or class `qualname` in the target version."""
        return self.index.members(qualname, self.version)

    def suggest(self, qualname: str) -> List[str]:
        """Close names to a missing `qualname` in its parent, at the target version."""
        return self.index.suggest(qualname, self.version)

    def deprecation(self, qualname: str, version: Optional[str] = None):
        """The deprecation the index records for `qualname` at `version` (default: the target)."""
        return self.index.deprecation(qualname, version or self.version)

    def when_text(self, qualname: str) -> str:
        """'removed in 2.6 (last in 2.5)' / 'added in 2.0' relative to the target version."""
        return _aq.when_text(self.index, qualname, self.version)

    def callee(self, site: CallSite) -> Optional[str]:
        """The MindSpore qualified name of a call's callee known as a class or function."""
        return _aq.callee(self.m, site, self.index, self.version)

    def canonical_user_name(self, qualname: str) -> str:
        """A short public name for messages (nn.layer.basic.Dense -> nn.Dense)."""
        return _aq.canonical_user_name(self.index, qualname, self.version)

    def is_primitive_class(self, qualname: str) -> bool:
        """A Primitive operator class (ops.ReLU...) in the target version."""
        return _aq.is_primitive_class(self.index, qualname, self.version)

    def bind_call(self, qualname: str, call: cst.Call):
        """The call's arguments bound to the target version's signature, or None."""
        return _aq.bind_call(self.index, qualname, self.version, call)

    def bind_call_at(self, qualname: str, call: cst.Call, version: str):
        """The call's arguments bound to the signature of another indexed `version`, or None."""
        return _aq.bind_call(self.index, qualname, version, call)

    def conventional_value(self, qualname: str, param: str) -> Optional[dict]:
        """{"value", "source"} MindSpore's docs give for required `param` of `qualname` (conventional_args.json), or None."""
        from msfix.knowledge.conventional import lookup
        return lookup(self.canonical_user_name(qualname), param)

    @staticmethod
    def has_expansion(call: cst.Call) -> bool:
        """The call passes `*args` or `**kwargs`."""
        return _aq.has_expansion(call)

    @staticmethod
    def display(qualname: str) -> str:
        """mindspore.nn.Dense -> nn.Dense, mindspore.set_context -> ms.set_context."""
        return _aq.display(qualname)

    # the script's own names
    def guarded(self, node: cst.CSTNode, top: int) -> bool:
        """`node` sits in a try that catches import/attribute errors or under a version check."""
        return _aq.guarded(self.m, node, top)

    def name_uses(self, name: str, scope) -> Iterator[Tuple[cst.Name, int]]:
        """Every load of `name` in the module (with its top-level index)."""
        return _aq.name_uses(self.m, name, scope)

    def bound_once(self, name: str) -> bool:
        """`name` is bound exactly once in the script, and not in any function or class."""
        return _aq.bound_once(self.m, name)

    def targets(self):
        """(qualname, node, top, group) for every MindSpore path the script names."""
        from msfix.knowledge.api_refs import api_targets

        return api_targets(self.m)

    def first_missing(self, qualname: str):
        """The shortest prefix of `qualname` that does not exist in the target version."""
        from msfix.knowledge.api_refs import first_missing

        return first_missing(self.index, qualname, self.version)

    @staticmethod
    def rename_tables():
        """(modules, names, hints) of the shipped rename table (api_renames.json)."""
        from msfix.knowledge.api_refs import tables
        return tables()

    # tables shipped next to the index
    @staticmethod
    def table(name: str) -> dict:
        """A shipped knowledge table by file name (api_renames.json, enum_values.json, ...)."""
        return _aq.data(name)

    @staticmethod
    def torch_table() -> dict:
        """The PyTorch -> MindSpore API mapping (MindSpore's published tables)."""
        return load_torch_table()

    def torch_counterpart(self, torch_qualname: str, classic: bool = False):
        """(the MindSpore mapping of a torch API to use at the target version, or None;
        the target's own table entry). `classic`: prefer `ops` / `nn`."""
        from msfix.knowledge.torch_map import counterpart
        return counterpart(torch_qualname, self.index, self.version, classic)

    @staticmethod
    def facts() -> Any:
        """Dataset and operator facts (msfix/knowledge/facts.py)."""
        return _facts

    @staticmethod
    def mindcv_registry():
        """The mindcv model registry (names and constructor signatures, from the wheel)."""
        from msfix.knowledge.mindcv import load_registry
        return load_registry()

    @staticmethod
    def mindcv_key(name: str) -> str:
        """A model-zoo name normalised for lookup in the registry."""
        from msfix.knowledge.mindcv import normalize
        return normalize(name)

    def target_spelling(self, qualname: str):
        """How `qualname` is spelled in the target version when it moved, or None."""
        from msfix.knowledge.moves import target_spelling
        return target_spelling(self.index, qualname, self.version)

    def sibling_spelling(self, qualname: str):
        """A sibling module's spelling of a missing name in the target version, or None."""
        from msfix.knowledge.moves import sibling_spelling
        return sibling_spelling(self.index, qualname, self.version)


# -------------------------------------------------------------------------- values
class ValuesView:
    """The value of an expression when it follows from the script (literals, constants,
    argparse defaults, config dicts and files, helper parameters), and its origin."""

    def __init__(self, model: ScriptModel) -> None:
        self.m = model

    def of(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int]):
        """The value of `expr`, or UNKNOWN."""
        return _values.evaluate(self.m, expr, scope, order)

    def origin(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int], ctx=None,
               site: Optional[CallSite] = None) -> Optional[str]:
        """Where the value of `expr` comes from when it is not written at the use
        ("`args.workers` (default 12, line 12)", "`cfg['lr']` (config.yaml:3)"; for one
        call `site` of the helper `expr` is in, the parameter and that call), or None."""
        return _values.origin_of(self.m, expr, scope, order, ctx, site)

    def per_call(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int],
                 statement: Optional[cst.CSTNode] = None) -> List[Tuple[Any, Optional[CallSite]]]:
        """[(value, call site)] of `expr` for each call of the script function it is in
        (parameters from that call, `if`s on them followed; with the `statement` holding
        `expr`, only calls that run it); [(value, None)] otherwise."""
        return _values.per_call(self.m, expr, scope, order, statement)

    def defining_literal(self, expr: cst.BaseExpression, scope: Scope,
                         order: Optional[int]) -> Optional[cst.BaseExpression]:
        """The one number literal of the script the value of `expr` is written as (itself, a constant,
        a dict / namespace entry, an argparse default), or None: where a fix edits the value."""
        return _values.defining_literal(self.m, expr, scope, order)

    def from_outside(self, expr: Optional[cst.BaseExpression], scope: Scope, order: Optional[int]) -> bool:
        """The value of `expr` depends on an argparse option or a config file (a run can change it)."""
        return _values.from_outside(self.m, expr, scope, order)
