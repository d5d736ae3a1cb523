"""The CrossGuard side: one policy per deploy-time rule of the catalogue, and the servicer that serves them.

Nothing here decides what is compliant: `policies` hands each resource to `registry_guard.pulumi_properties`
for the model and to the catalogue's judge for the one rule a policy is named after; `servicer` serves them
with one decode per request instead of the SDK's one per policy.
"""
