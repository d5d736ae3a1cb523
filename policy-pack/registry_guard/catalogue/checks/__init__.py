"""Rule logic, one module per subject.

Every check is `(RegistryState, Settings) -> Iterable[Finding | Undetermined]`.
"""
