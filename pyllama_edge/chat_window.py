"""Context-window management for long chats: when the rendered prompt plus max_tokens does not
fit n_ctx, the oldest turns are dropped (the leading system messages and the latest user turn
always stay; an assistant tool call and its tool results go together) and the chat is rendered
again. Positions in the KV cache are never shifted: the shorter prompt is evaluated afresh from
where it stops sharing a prefix with the session's history."""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Sequence, Tuple

logger = logging.getLogger("pyllama_edge")

MODES = ("truncate", "error")


def _units(messages: Sequence[Dict[str, Any]], start: int, stop: int) -> List[Tuple[int, int]]:
    """Droppable [begin, end) ranges of messages[start:stop], oldest first: one message each,
    except that an assistant message with tool_calls takes the tool messages after it along."""
    units, i = [], start
    while i < stop:
        j = i + 1
        if isinstance(messages[i], dict) and messages[i].get("tool_calls"):
            while j < stop and isinstance(messages[j], dict) and messages[j].get("role") in ("tool", "ipython"):
                j += 1
        units.append((i, j))
        i = j
    return units


def fit(messages: Sequence[Dict[str, Any]], prompt_tokens: Callable[[List[Dict[str, Any]]], int],
        n_ctx: int, max_tokens: int) -> Tuple[List[Dict[str, Any]], int]:
    """(messages that fit, how many were dropped). `prompt_tokens(messages)` renders and counts.
    Leaves the messages as they are when nothing can be dropped (the core then reports the
    overflow)."""
    messages = list(messages)
    budget = n_ctx - max(max_tokens, 0)
    if prompt_tokens(messages) <= budget:
        return messages, 0
    head = 0
    while head < len(messages) and isinstance(messages[head], dict) and messages[head].get("role") == "system":
        head += 1
    last_user = max((i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"), default=len(messages))
    units = _units(messages, head, max(last_user, head))
    if not units:
        return messages, 0

    def without(k: int) -> List[Dict[str, Any]]:
        cut = units[k - 1][1] if k else head
        return messages[:head] + messages[cut:]

    # Fewest dropped units that fit (the prompt only shrinks as more go): a binary search, so a
    # 100-turn chat is rendered about 8 times, not 100.
    lo, hi = 1, len(units)
    if prompt_tokens(without(hi)) > budget:
        return without(hi), units[hi - 1][1] - head
    while lo < hi:
        mid = (lo + hi) // 2
        if prompt_tokens(without(mid)) <= budget:
            hi = mid
        else:
            lo = mid + 1
    dropped = units[lo - 1][1] - head
    logger.warning("chat longer than the context (n_ctx=%d, max_tokens=%d): dropped the %d oldest messages",
                   n_ctx, max_tokens, dropped)
    return without(lo), dropped
