"""Token accounting and a per-run cap on tokens (and on cost when prices are configured).

A call reserves its worst case (estimated prompt tokens + `max_tokens`) before it is sent and
settles to the server's reported usage when it returns, so the cap is never overshot by calls in
flight. Answers served from the response cache cost nothing and are not counted.

Example:
    >>> budget = TokenBudget(max_tokens=1000)
    >>> budget.reserve(400)
    True
    >>> budget.settle(400, prompt_tokens=150, completion_tokens=50)
    >>> budget.spent_tokens, budget.reserve(900)
    (200, False)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["Prices", "TokenBudget", "estimate_tokens"]


def estimate_tokens(text: str) -> int:
    """Upper-end token estimate for text when no tokenizer is at hand (one per 3 characters)."""
    return len(text) // 3 + 1


@dataclass(frozen=True)
class Prices:
    """Prices per million prompt and completion tokens, in the user's currency."""

    prompt_per_million: float = 0.0
    completion_per_million: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Cost of the given token counts."""
        return (
            prompt_tokens * self.prompt_per_million
            + completion_tokens * self.completion_per_million
        ) / 1e6

    @property
    def configured(self) -> bool:
        """True when any price is set."""
        return self.prompt_per_million > 0 or self.completion_per_million > 0


class TokenBudget:
    """Spent, reserved and remaining tokens of one run; thread-safe."""

    def __init__(
        self,
        max_tokens: int | None = None,
        max_cost: float | None = None,
        prices: Prices | None = None,
    ) -> None:
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.prices = prices or Prices()
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.reserved = 0
        self.refused = 0
        self._lock = threading.Lock()

    @property
    def spent_tokens(self) -> int:
        """Prompt plus completion tokens of the settled calls."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost(self) -> float:
        """Cost of the settled calls (0 without prices)."""
        return self.prices.cost(self.prompt_tokens, self.completion_tokens)

    def reserve(self, tokens: int) -> bool:
        """Hold `tokens` for a call about to be sent; False (and nothing held) past the cap."""
        with self._lock:
            if self.max_tokens is not None and self.spent_tokens + self.reserved + tokens > (
                self.max_tokens
            ):
                self.refused += 1
                return False
            if self.max_cost is not None:
                rate = max(self.prices.prompt_per_million, self.prices.completion_per_million)
                worst = (self.reserved + tokens) * rate / 1e6
                if self.cost + worst > self.max_cost:
                    self.refused += 1
                    return False
            self.reserved += tokens
            return True

    def settle(self, reserved: int, prompt_tokens: int, completion_tokens: int) -> None:
        """Release a reservation and count what the call really used."""
        with self._lock:
            self.reserved = max(0, self.reserved - reserved)
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens

    def release(self, reserved: int) -> None:
        """Release a reservation of a call that used nothing (it failed before an answer)."""
        self.settle(reserved, 0, 0)

    @property
    def exhausted(self) -> bool:
        """True once a reservation was refused."""
        return self.refused > 0

    def describe(self) -> str:
        """One line: spent tokens (and cost) against the caps."""
        cap = f" of {self.max_tokens:,}" if self.max_tokens is not None else ""
        line = f"{self.spent_tokens:,}{cap} tokens"
        if self.prices.configured:
            limit = f" of {self.max_cost:.4f}" if self.max_cost is not None else ""
            line += f", cost {self.cost:.4f}{limit}"
        return line
