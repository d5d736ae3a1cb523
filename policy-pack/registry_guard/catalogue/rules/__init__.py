"""The rule catalogue: one module per rule, named after its id (`no-public-access` in
`no_public_access.py`), each declaring its rule with `registry_guard.catalogue.rule.declare`.

Importing this package imports every module in it, which declares every rule: adding a rule is adding a
module here (and its test module and its line in the docs), nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}")
