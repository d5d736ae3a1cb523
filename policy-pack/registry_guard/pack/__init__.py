"""Model Registry Guard's CrossGuard adapter.

Why a package of its own inside `policy-pack/`: `pulumi policy publish` ships only this folder, so the
adapter travels with the rule catalogue it feeds. Nothing here decides what is compliant: `adapter`
turns Pulumi resource properties into `registry_guard.catalogue.model`, `policies` calls `registry_guard.catalogue.judge`
for the one rule each policy is named after, and `servicer` serves them with one decode per request
instead of the SDK's one per policy.
"""
