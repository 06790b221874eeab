"""msfix smoke bootstrap: imported by the child interpreter at start-up.

msfix puts this directory first on ``PYTHONPATH`` of the smoke child only.
When ``MSFIX_SMOKE_CONFIG`` names a config file, the patches in
``_msfix_smoke_boot`` are installed before the user's script runs. Processes
the script starts itself (``MSFIX_SMOKE_ACTIVE`` already set) are left alone.
Any other ``sitecustomize`` further down ``sys.path`` is run first, so the
interpreter's own start-up hooks still happen (and cannot replace ours).
"""

import os
import sys


def _msfix_chain_next_sitecustomize():
    here = os.path.dirname(os.path.abspath(__file__))
    import importlib.machinery
    import importlib.util

    path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None or not spec.origin:
        return
    if os.path.abspath(spec.origin) == os.path.abspath(__file__):
        return
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # same leniency as site.py
        sys.stderr.write(f"Error in sitecustomize ({spec.origin}): {exc!r}\n")


_msfix_chain_next_sitecustomize()

if os.environ.get("MSFIX_SMOKE_CONFIG") and not os.environ.get("MSFIX_SMOKE_ACTIVE"):
    os.environ["MSFIX_SMOKE_ACTIVE"] = str(os.getpid())
    import _msfix_smoke_boot

    _msfix_smoke_boot.install(os.environ["MSFIX_SMOKE_CONFIG"])
