"""Model Registry Guard: the code the policy pack, the nightly audit and the stack share.

It lives inside `policy-pack/` because `pulumi policy publish` ships that folder alone: the pack must
carry the catalogue it judges with. The project installs the same files (`pyproject.toml` maps this
package here), so the audit and the stack import exactly what the pack runs.

* `catalogue`: the normalized model, the rules (each declared once, with its check) and the judge.
* `pulumi_properties`: Pulumi resource properties (at deploy time, or from a stack export) to the model.
* `pack`: the CrossGuard policies derived from the catalogue, and the servicer that serves them.
"""
