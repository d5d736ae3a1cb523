"""Pulumi program: the model registry for versioned ML model images.

Kept thin on purpose: all decisions live in `model_registry` (config validation and the components),
which is importable and tested; this file only wires config to the components and exports.
"""

import pulumi

from model_registry.component import ModelRegistry
from model_registry.config import load_config
from model_registry.nightly_audit import NightlyAudit

config = load_config()  # raises ConfigError (one line naming the key) before anything is declared
registry = ModelRegistry("model-registry", config)

for key, value in registry.outputs.items():
    pulumi.export(key, value)

if config.audit is not None:  # model-registry:audit with enabled: true
    audit = NightlyAudit("registry-guard-audit", config, gcr_bucket=registry.outputs.get("bucket_name"))
    pulumi.export("nightly_audit", audit.outputs)
