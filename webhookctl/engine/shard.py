"""`--shard K/N`: a stable partition of the configured accounts, for a CI job matrix.

An account (`Config.account_of`: vendor, normalised address, organisation or team) is in
shard K of N when sha256(account) mod N == K - 1. It depends on nothing but the account and N,
so an account stays in its shard whatever else changes in the configuration, and every provider
entry that reaches one account lands in the same shard (they share its lock and its cap).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from webhookctl.config.desired import Config
from webhookctl.errors import WebhookctlError

PATTERN = re.compile(r"^([1-9][0-9]{0,5})/([1-9][0-9]{0,5})$")


class ShardError(WebhookctlError):
    """A --shard that is not K/N with 1 <= K <= N."""


@dataclass(frozen=True)
class Shard:
    index: int  # K, from 1
    count: int  # N

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = PATTERN.match(text.strip())
        if match is None or not 1 <= int(match[1]) <= int(match[2]):
            raise ShardError(f"shard {text!r} is not K/N with 1 <= K <= N (e.g. 2/4)")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, account: str) -> bool:
        return bucket(account, self.count) == self.index - 1


def bucket(account: str, count: int) -> int:
    return int.from_bytes(hashlib.sha256(account.encode()).digest()[:8], "big") % count


def select(config: Config, providers: Iterable[str], shard: str | None) -> list[str]:
    """The providers of `providers` whose account is in `shard` (all of them without one), sorted."""
    names = sorted(providers)
    if shard is None:
        return names
    part = Shard.parse(shard)
    return [name for name in names if part.holds(config.account_of(name))]
