"""MS201: the same dataset directory read twice without `usage`: train and test are the same data."""

from collections import defaultdict

import libcst as cst

from msfix.context import EVAL, SOURCE_ARGS, TRAIN, UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule

SPLIT_SOURCES = {
    "mindspore.dataset.Cifar10Dataset",
    "mindspore.dataset.Cifar100Dataset",
    "mindspore.dataset.MnistDataset",
    "mindspore.dataset.FashionMnistDataset",
}

# stages and calls that give two reads of one directory different samples
SEPARATING = ("split", "take", "skip", "filter", "use_sampler", "add_sampler")
USAGE = {TRAIN: "train", EVAL: "test"}


def _separated(ctx, source) -> bool:
    if source.call.has_star_args or any(source.call.keyword(k) is not None for k in ("sampler", "num_shards")):
        return True
    return any(s.method in SEPARATING for s in ctx.data.downstream(source))


def _dir_at(ctx, source, d, site):
    """A key for the directory `source` (in a helper function) reads when the helper is
    called at `site`: the literal path, or the argument expression and the binding its
    name refers to; None when it cannot be told."""
    m = ctx.model
    fscope = source.call.scope
    v = ctx.data.value(d.value, fscope, source.call.order, {fscope: site})
    if isinstance(v, str):
        return v
    if not isinstance(d.value, cst.Name) or not isinstance(fscope.node, cst.FunctionDef):
        return None
    b = m.lookup(d.value.value, fscope)
    if b is None or b.kind != "param" or len(fscope.bindings.get(d.value.value, ())) != 1:
        return None
    given = ctx.data.param_arg(site, fscope.node, d.value.value)
    if given is None or given is UNKNOWN:
        return None
    root = given
    while isinstance(root, cst.Attribute):
        root = root.value
    if not isinstance(root, cst.Name):
        return None
    rb = m.lookup(root.value, site.scope, site.order)
    if rb is None or len(rb.scope.bindings.get(root.value, ())) != 1:
        return None
    return (m.module.code_for_node(given), id(rb))


class DatasetSplitWithoutUsage(Rule):
    code = "MS201"
    name = "dataset-split-without-usage"
    severity = Severity.ERROR
    summary = "Two datasets read the same directory without `usage`: the test set is inside the training set."
    fix_applicability = Applicability.UNSAFE
    doc = """
    ## What it does
    Flags `Cifar10Dataset`, `Cifar100Dataset`, `MnistDataset` and `FashionMnistDataset`
    reading one directory twice without `usage`, where one dataset is trained on and
    the other is evaluated; also one reader in a helper function that is called for the
    training and for the evaluation data with the same directory. Whether a dataset is training or evaluation data is decided
    by the analysis, the same way for every rule: from how it is used (`Model.train`,
    `Model.eval`, a `train_dataset=`/`eval_dataset=` argument, a loop over it that runs
    a training step or compares predictions with labels, also through helper functions,
    `zip` and `concat`), then from the `if do_train:`/`else:` branch of a helper it is
    built in, then from variable names. Reads whose role is unknown, two reads with the
    same role (one run takes one branch, the same split read twice, a tutorial showing
    `shuffle` or a sampler) and reads separated by a `sampler`, `num_shards`, `split`,
    `take`, `skip` or `filter` are not reported.

    ## Why is this bad?
    Without `usage` these readers return every sample of the directory, train and test
    files together (CIFAR-10: 60000 images, not 50000 and 10000). A script that builds
    its training and its evaluation dataset this way trains on the test set and reports
    an accuracy that means nothing. Nothing fails; the numbers are just wrong.

    ## Example
    ```python
    train_data = ds.Cifar10Dataset(data_home, shuffle=True)
    test_data = ds.Cifar10Dataset(data_home, shuffle=False)
    ```

    Use instead:
    ```python
    train_data = ds.Cifar10Dataset(data_home, usage="train", shuffle=True)
    test_data = ds.Cifar10Dataset(data_home, usage="test", shuffle=False)
    ```

    ## Fix safety
    Unsafe: it adds `usage="train"` to the read that is trained on and `usage="test"`
    to the one that is evaluated (no fix for a reader shared by both calls of a helper:
    the helper needs a `usage` parameter); a script that meant a custom split of the files (or
    a directory holding only one split) needs a different change.

    ## Known limits
    Reads in the two branches of one `if`/`else`, one trained on and one evaluated,
    are reported: a script run once per mode still evaluates on the files it trained
    on. A directory that holds only the test files (`/data/cifar/test`) read for
    evaluation next to the same directory for training cannot be told from the code.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\n"
            "train_ds = ds.MnistDataset('/data/mnist')\n"
            "test_ds = ds.MnistDataset('/data/mnist')\n",
            expect=(2, 3),
            fixed="import mindspore.dataset as ds\n"
                  "train_ds = ds.MnistDataset('/data/mnist', usage=\"train\")\n"
                  "test_ds = ds.MnistDataset('/data/mnist', usage=\"test\")\n",
        ),
    ]
    valid = [
        Example("import mindspore.dataset as ds\n"
                "a = ds.MnistDataset('/data/mnist', usage='train')\n"
                "b = ds.MnistDataset('/data/mnist', usage='test')\n"),
        Example("import mindspore.dataset as ds\n"
                "a = ds.Cifar10Dataset('/data/train')\n"
                "b = ds.Cifar10Dataset('/data/test')\n"),
        Example("import mindspore.dataset as ds\n"
                "a = ds.Cifar10Dataset('/data/c10')\n"),
    ]

    def _per_call_site(self, ctx, source):
        """One read in a helper function that is called for the training and for the
        evaluation data with the same directory."""
        d = ctx.data.arg_of(source.call, "dataset_dir", SOURCE_ARGS)
        if d is None or ctx.data.arg_of(source.call, "usage", SOURCE_ARGS) is not None \
                or ctx.data.in_branch(source.call):
            return
        sites = ctx.data.call_sites(source.call.scope)
        if len(sites) < 2 or _separated(ctx, source):
            return
        seen = {}
        for site in sites:
            key = _dir_at(ctx, source, d, site)
            role = ctx.data.call_role(site)
            if key is None or role not in (TRAIN, EVAL):
                continue
            if any(x.method in SEPARATING for x in ctx.data.downstream_of_call(site)):
                continue
            seen.setdefault(key, {}).setdefault(role, site)
        for by_role in seen.values():
            if len(by_role) < 2:
                continue
            tr, ev = (ctx.span(by_role[r].node, by_role[r].top).line for r in (TRAIN, EVAL))
            short = source.source_class.rsplit(".", 1)[-1]
            origin = ctx.values.origin(d.value, source.call.scope, source.call.order, ctx, by_role[TRAIN])
            ctx.report(
                source.call.node,
                f"`{short}` reads the same directory without `usage` for the training data (the call at "
                f"line {tr}) and for the evaluation data (the call at line {ev}): both get every sample "
                f"(train and test files), so the test set leaks into training; pass `usage` through the "
                f"helper (`usage=\"train\"` / `usage=\"test\"`)"
                + (f". The directory comes from {origin}" if origin else ""),
                top=source.call.top,
            )
            return

    def check(self, ctx):
        m = ctx.model
        for p in m.pipelines:
            if p.op == "source" and p.source_class in SPLIT_SOURCES and p.call.scope.kind == "function":
                self._per_call_site(ctx, p)
        groups = defaultdict(list)
        for p in m.pipelines:
            if p.op != "source" or p.source_class not in SPLIT_SOURCES:
                continue
            site = p.call
            d = ctx.data.arg_of(site, "dataset_dir", SOURCE_ARGS)
            if d is None:
                continue
            value = m.literal(d.value, site.scope, site.order)
            key = value if isinstance(value, str) else None
            if key is None:
                # the same variable, unchanged, is the same directory
                if not isinstance(d.value, cst.Name):
                    continue
                b = m.lookup(d.value.value, site.scope, site.order)
                if b is None:
                    continue
                key = ("binding", id(b))
            groups[(p.source_class, key)].append(p)
        for (cls, _), sources in groups.items():
            if len(sources) < 2:
                continue
            roles = {id(s): ctx.data.role_of(s) for s in sources}
            partners = {id(s): [] for s in sources}
            for i, a in enumerate(sources):
                for b in sources[i + 1:]:
                    if {roles[id(a)], roles[id(b)]} != {TRAIN, EVAL}:
                        continue
                    if _separated(ctx, a) or _separated(ctx, b):
                        continue
                    partners[id(a)].append(b)
                    partners[id(b)].append(a)
            short = cls.rsplit(".", 1)[-1]
            for s in sources:
                if not partners[id(s)] or ctx.data.arg_of(s.call, "usage", SOURCE_ARGS) is not None:
                    continue
                d = ctx.data.arg_of(s.call, "dataset_dir", SOURCE_ARGS)
                others = sorted({ctx.span(o.call.node, o.call.top).line for o in partners[id(s)]})
                usage = USAGE[roles[id(s)]]
                fix = Fix.unsafe(f'Add `usage="{usage}"`',
                                 ctx.insert_after(d.value, f', usage="{usage}"', s.call.top))
                origin = ctx.values.origin(d.value, s.call.scope, s.call.order, ctx)
                ctx.report(
                    s.call.node,
                    f"`{short}` reads the same directory as line {', '.join(map(str, others))} without `usage`: "
                    f"both get every sample (train and test files), so the test set leaks into training; "
                    f"pass `usage=\"train\"` / `usage=\"test\"`"
                    + (f". The directory comes from {origin}" if origin else ""),
                    fix=fix,
                    top=s.call.top,
                )
