"""The real pack's policies served by pulumi-policy's own servicer, without `registry_guard.pack.servicer`:
benchmark 5's baseline for what decoding each request once per policy costs."""

from pulumi_policy import EnforcementLevel, PolicyPack
from registry_guard.pack.policies import all_policies

PolicyPack(name="sdk-servicer", policies=all_policies(), enforcement_level=EnforcementLevel.ADVISORY)
