"""MS201: the same dataset directory read twice without `usage`: train and test are the same data."""

from collections import defaultdict

import libcst as cst

from msfix.analysis.data import EVAL, SOURCE_ARGS, TRAIN, arg_of, downstream, role_of
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


def _separated(m, source) -> bool:
    if source.call.has_star_args or any(source.call.keyword(k) is not None for k in ("sampler", "num_shards")):
        return True
    return any(s.method in SEPARATING for s in downstream(m, source))


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
    the other is evaluated. Whether a dataset is training or evaluation data is decided
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
    to the one that is evaluated; a script that meant a custom split of the files (or
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

    def check(self, ctx):
        m = ctx.model
        groups = defaultdict(list)
        for p in m.pipelines:
            if p.op != "source" or p.source_class not in SPLIT_SOURCES:
                continue
            site = p.call
            d = arg_of(site, "dataset_dir", SOURCE_ARGS)
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
            roles = {id(s): role_of(m, s) for s in sources}
            partners = {id(s): [] for s in sources}
            for i, a in enumerate(sources):
                for b in sources[i + 1:]:
                    if {roles[id(a)], roles[id(b)]} != {TRAIN, EVAL}:
                        continue
                    if _separated(m, a) or _separated(m, b):
                        continue
                    partners[id(a)].append(b)
                    partners[id(b)].append(a)
            short = cls.rsplit(".", 1)[-1]
            for s in sources:
                if not partners[id(s)] or arg_of(s.call, "usage", SOURCE_ARGS) is not None:
                    continue
                d = arg_of(s.call, "dataset_dir", SOURCE_ARGS)
                others = sorted({ctx.span(o.call.node, o.call.top).line for o in partners[id(s)]})
                usage = USAGE[roles[id(s)]]
                fix = Fix.unsafe(f'Add `usage="{usage}"`',
                                 ctx.insert_after(d.value, f', usage="{usage}"', s.call.top))
                ctx.report(
                    s.call.node,
                    f"`{short}` reads the same directory as line {', '.join(map(str, others))} without `usage`: "
                    f"both get every sample (train and test files), so the test set leaks into training; "
                    f"pass `usage=\"train\"` / `usage=\"test\"`",
                    fix=fix,
                    top=s.call.top,
                )
