"""One test module per rule of the catalogue (`test_<rule id with underscores>.py`), mirroring
`registry_guard/catalogue/rules/`. Each holds the rule's cases as named rows in `CASES`."""
