"""Pulumi resource properties (engine wire names, camelCase) to the catalogue's normalized model.

The policy pack adapts each resource of a preview or update, and the audit each resource of a
`pulumi stack export`, with these same functions, so "declared" means exactly what the pack judged.
Nothing here decides what is compliant; a value not known yet stays `UNKNOWN` (see `reader`).

* `types`: the type tokens read, and which subjects of the model each yields.
* `reader`: property access that keeps unknowns; `targets`: full names of what a resource manages.
* `iam`, `acl`, `repository`, `storage`, `images`: one resource shape each.
* `declarations`: the IAM resources of a whole stack, judged together.
* `adapt`: one resource to the model, whatever its type.

Nothing is imported here, so the catalogue can name a type token (`types`) without loading pulumi_policy.
"""
