"""Google Cloud's naming rules for what the stack creates and the rules read, stated once.

Artifact Registry repository ids: a lowercase letter first, then lowercase letters, digits and hyphens,
not ending in a hyphen, at most 63 characters. Label keys: a lowercase letter first, then lowercase
letters, digits, underscores and hyphens, at most 63 characters (the ASCII subset of Google's rule, which
also admits international lowercase letters). https://cloud.google.com/artifact-registry/docs/repositories/create-repos
and https://cloud.google.com/resource-manager/docs/labels-overview#requirements
"""

from __future__ import annotations

import re
from typing import Final

REPOSITORY_ID_PATTERN: Final = r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
LABEL_KEY_PATTERN: Final = r"^[a-z][a-z0-9_-]{0,62}$"

REPOSITORY_ID: Final = re.compile(REPOSITORY_ID_PATTERN)
LABEL_KEY: Final = re.compile(LABEL_KEY_PATTERN)


def is_repository_id(text: str) -> bool:
    return REPOSITORY_ID.fullmatch(text) is not None


def is_label_key(text: str) -> bool:
    return LABEL_KEY.fullmatch(text) is not None
