"""The one rule catalogue, shared by the policy pack (deploy time) and the audit (at night).

* `model`: the normalized model every source produces (frozen dataclasses; `UNKNOWN` where a value could
  not be known, never a guessed default).
* `rule`: how a rule is declared (`declare`), and the registry of declared rules (`all_rules`).
* `rules/`: one module per rule, its metadata and its check.
* `judge`: runs the rules of a stage on the model and says which ones ran.
* Shared knowledge the rules and sources lean on: `principals`, `container_registry`, `names`, `settings`,
  `severity`, `frameworks`, and the helpers `grants`, `repositories`, `cleanup`, `history`.
"""
