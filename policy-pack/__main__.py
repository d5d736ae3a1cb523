"""Model Registry Guard policy pack entry point.

Why so thin: `PolicyPack(...)` starts the gRPC server and never returns, so everything testable lives in
`registry_guard.pack` and this file only hands the policies over. Never print to stdout here: the engine
reads the port from the first stdout line.
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from registry_guard.pack import servicer
from registry_guard.pack.policies import all_policies

servicer.install()  # decode each request once, not once per policy (the SDK's own servicer otherwise)
PolicyPack(
    name="model-registry-guard",
    policies=all_policies(),
    # Each policy sets its own level from the catalogue; this only covers a policy that would not.
    enforcement_level=EnforcementLevel.ADVISORY,
    description="Guards the Google Cloud registry that holds versioned ML model images: no public or "
    "broad access, immutable version tags, safe cleanup, scanning, encryption, no Container Registry.",
    display_name="Model Registry Guard",
    provider="gcp",
    tags=["gcp", "artifact-registry", "model-registry"],
)
