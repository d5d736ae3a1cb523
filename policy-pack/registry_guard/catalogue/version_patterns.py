"""Which version tags the version pattern admits, and whether a set of prefixes covers all of them.

Cleanup policies select tags and version names by prefix; a KEEP policy protects released versions only if
every string the version pattern admits starts with one of its prefixes. That is a question about the
pattern's language, not about sample tags, so the pattern and the prefixes are turned into automata
(interegular) and compared: a counterexample, when there is one, is a version the prefixes leave out.

The pattern is matched as the rules match it (`re.search`): unanchored ends admit anything around it.
Patterns the automata cannot express (look-arounds, back-references, inner anchors) are not guessed at:
`PatternNotAnalysable` says so, and the rule reports "could not judge".
"""

from __future__ import annotations

import collections
import functools
import re
from typing import Final

import interegular
from interegular.fsm import FSM, anything_else

# What a Docker tag may be: the OCI distribution spec's `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`, without the
# length limit (a bounded repetition makes the automaton large and changes no answer here).
DOCKER_TAG: Final = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
# Preferred characters when spelling a counterexample, so it reads like a tag.
_READABLE: Final = "0123456789vabcdefghijklmnopqrstuwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_+"


class PatternNotAnalysable(ValueError):
    """The version pattern uses something a finite automaton cannot express; the message says what."""


def _search_language(pattern: str) -> str:
    """The pattern as a full match of the strings `re.search` finds it in."""
    body = pattern
    start = body.startswith("^") or body.startswith(r"\A")
    body = body[2:] if body.startswith(r"\A") else body[1:] if body.startswith("^") else body
    end = (body.endswith("$") and not body.endswith(r"\$")) or body.endswith(r"\Z")
    body = body[:-2] if body.endswith(r"\Z") else body[:-1] if end else body
    return f"{'' if start else '.*'}(?:{body}){'' if end else '.*'}"


@functools.lru_cache(maxsize=64)
def _automaton(pattern: str) -> FSM:
    try:
        re.compile(pattern)
        return interegular.parse_pattern(pattern).to_fsm()
    except re.error as exc:
        raise PatternNotAnalysable(f"not a valid regular expression ({exc})") from None
    except (interegular.patterns.Unsupported, interegular.patterns.InvalidSyntax, ValueError, KeyError) as exc:
        raise PatternNotAnalysable(f"it uses {exc or type(exc).__name__}, which cannot be analysed") from None


def _prefixes(prefixes: tuple[str, ...]) -> str:
    return "(?:" + "|".join(re.escape(p) for p in prefixes) + ").*"


def _example(fsm: FSM) -> str | None:
    """A shortest string the automaton accepts (breadth first over its states), or None when it accepts none."""
    if fsm.empty():
        return None
    symbols = fsm.alphabet.by_transition
    spelled: dict[int, str] = {}
    for index, chars in symbols.items():
        real = sorted((c for c in chars if c is not anything_else), key=lambda c: (_READABLE.find(c) % 1000, c))
        if real:
            spelled[index] = real[0]
        else:
            known = {c for cs in symbols.values() for c in cs if c is not anything_else}
            spelled[index] = next((c for c in _READABLE if c not in known), "~")
    seen = {fsm.initial: ""}
    queue = collections.deque([fsm.initial])
    while queue:
        state = queue.popleft()
        if state in fsm.finals:
            return seen[state]
        for index, target in sorted(fsm.map.get(state, {}).items(), key=lambda t: _READABLE.find(spelled[t[0]])):
            if target not in seen:
                seen[target] = seen[state] + spelled[index]
                queue.append(target)
    return None


@functools.lru_cache(maxsize=256)
def uncovered_version(
    pattern: str, covered_by: tuple[str, ...], *, within: tuple[str, ...] = (), docker_tag: bool = True
) -> str | None:
    """A version the pattern admits that starts with none of `covered_by`, or None when there is none.

    `within` limits the versions to those starting with one of these prefixes (what a DELETE policy with
    prefixes can reach); `docker_tag` limits them to strings a Docker tag can be. Raises
    `PatternNotAnalysable`."""
    versions = _automaton(_search_language(pattern))
    if docker_tag:
        versions = versions.intersection(_automaton(DOCKER_TAG))
    if within:
        versions = versions.intersection(_automaton(_prefixes(within)))
    if covered_by:
        versions = versions.difference(_automaton(_prefixes(covered_by)))
    return _example(versions)
