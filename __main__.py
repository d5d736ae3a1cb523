"""Pulumi program: the model registry for versioned ML model images.

Kept thin on purpose: all decisions live in `model_registry` (config validation and the component),
which is importable and tested; this file only wires config to the component and exports.
"""

import pulumi

from model_registry.component import ModelRegistry
from model_registry.config import load_config

config = load_config()  # raises ConfigError (one line naming the key) before anything is declared
registry = ModelRegistry("model-registry", config)

for key, value in registry.outputs.items():
    pulumi.export(key, value)
