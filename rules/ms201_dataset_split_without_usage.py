"""MS201: the same dataset directory read twice without `usage`: train and test are the same data."""

from collections import defaultdict

import libcst as cst

from msfix.analysis.data import SOURCE_ARGS, arg_of
from msfix.analysis.model import UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule

SPLIT_SOURCES = {
    "mindspore.dataset.Cifar10Dataset",
    "mindspore.dataset.Cifar100Dataset",
    "mindspore.dataset.MnistDataset",
    "mindspore.dataset.FashionMnistDataset",
}

TRAIN_WORDS = ("train",)
EVAL_WORDS = ("test", "eval", "val", "valid")


def _intent(m, source):
    """'train' / 'test' as far as roles, names and shuffle tell, else None."""
    roles = set()
    for p in m.derived(source):
        roles |= p.roles
    if roles == {"train"}:
        return "train"
    if roles == {"eval"}:
        return "test"
    if roles:
        return None
    names = set()
    for p in m.derived(source):
        names |= {n.lower() for n in p.names}
    is_train = any(w in n for n in names for w in TRAIN_WORDS)
    is_eval = any(w in n for n in names for w in EVAL_WORDS)
    if is_train != is_eval:
        return "train" if is_train else "test"
    shuffle = m.literal(arg_of(source.call, "shuffle", SOURCE_ARGS).value, source.call.scope, source.call.order) \
        if arg_of(source.call, "shuffle", SOURCE_ARGS) is not None else UNKNOWN
    if shuffle is True:
        return "train"
    if shuffle is False:
        return "test"
    return None


class DatasetSplitWithoutUsage(Rule):
    code = "MS201"
    name = "dataset-split-without-usage"
    severity = Severity.ERROR
    summary = "Two datasets read the same directory without `usage`: the test set is inside the training set."
    fix_applicability = Applicability.UNSAFE
    doc = """
    ## What it does
    Flags `Cifar10Dataset`, `Cifar100Dataset`, `MnistDataset` and `FashionMnistDataset`
    created more than once from the same directory, where some of them pass no `usage`.

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
    Unsafe: the fix guesses which dataset is for training and which for evaluation,
    from what the script passes to `Model.train`/`Model.eval`, then from variable
    names, then from `shuffle`. It adds `usage="train"`/`usage="test"` only where the
    guess is unambiguous.
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
            missing = [s for s in sources if arg_of(s.call, "usage", SOURCE_ARGS) is None]
            if not missing:
                continue
            intents = {id(s): _intent(m, s) for s in missing}
            values = [intents[id(s)] for s in missing]
            fixable = all(v is not None for v in values) and len(set(values)) == len(values)
            lines = [ctx.span(s.call.node, s.call.top).line for s in sources]
            short = cls.rsplit(".", 1)[-1]
            for s in missing:
                d = arg_of(s.call, "dataset_dir", SOURCE_ARGS)
                others = [str(ln) for o, ln in zip(sources, lines) if o is not s]
                fix = None
                if fixable:
                    usage = intents[id(s)]
                    fix = Fix.unsafe(f'Add `usage="{usage}"`',
                                     ctx.insert_after(d.value, f', usage="{usage}"', s.call.top))
                ctx.report(
                    s.call.node,
                    f"`{short}` reads the same directory as line {', '.join(others)} without `usage`: "
                    f"both get every sample (train and test files), so the test set leaks into training; "
                    f"pass `usage=\"train\"` / `usage=\"test\"`",
                    fix=fix,
                    top=s.call.top,
                )
