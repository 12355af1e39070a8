"""Every error webhookctl raises on purpose.

    WebhookctlError
    ├── ConfigError            the configuration is invalid (all located problems at once)
    ├── MissingExtraError      an optional extra the configuration needs is not installed
    ├── PlanError              the plan cannot be carried out (cap exceeded, rotation too soon, ...)
    │   └── StalePlanError     a saved plan no longer matches the live state
    ├── LockHeldError          another run holds the lock of an organisation
    ├── SecretsError           the secrets backend refused or failed a read or a write
    │   ├── ForeignEntryError  an entry not written by webhookctl is in the way
    │   └── SecretsAccessDenied the credentials may not read or write secret values
    └── ProviderError          the vendor API said no (carries the vendor's message, never a secret)
        ├── AuthError          401: credentials refused
        ├── ForbiddenError     403: missing permission
        ├── NotFoundError      404: organisation or destination
        ├── ConflictError      409: a related operation is in progress (retried)
        ├── ValidationFailed   422: the vendor rejected the request body
        ├── LimitError         400: destination cap reached / rotation too frequent
        ├── RateLimitedError   429 after every retry
        ├── UnavailableError   503 after every retry
        └── TransportError     no HTTP answer after every retry

A failed apply operation is not raised: it is reported as "<op> <provider>/<name>
failed: <cause>" with the error's message, and the run exits 1.

Messages never contain secret values: providers build them from status codes and
the vendor's error text only, and configuration problems never echo input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webhookctl.config.problems import Problem


class WebhookctlError(Exception):
    """Base of every error webhookctl raises on purpose."""


class ConfigError(WebhookctlError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class MissingExtraError(WebhookctlError):
    """Its message names the `pip install` that brings the extra."""


class PlanError(WebhookctlError):
    pass


class StalePlanError(PlanError):
    pass


class LockHeldError(WebhookctlError):
    pass


class SecretsError(WebhookctlError):
    pass


class ForeignEntryError(SecretsError):
    pass


class DamagedRecordError(SecretsError):
    """A record is there but is not one (not valid JSON, truncated, not webhookctl's format): storing a
    new secret repairs it. Any other SecretsError is the backend failing (down, refusing, a key or a
    helper missing), on whose word nothing is repaired: a repair rotates a secret at the vendor."""


class SecretsAccessDenied(SecretsError):
    """This run's credentials may not read (or write) secret values: not damage, a permission."""


class ProviderError(WebhookctlError):
    status: int | None = None

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class AuthError(ProviderError):
    status = 401


class ForbiddenError(ProviderError):
    status = 403


class NotFoundError(ProviderError):
    status = 404


class ConflictError(ProviderError):
    status = 409


class ValidationFailed(ProviderError):
    status = 422


class LimitError(ProviderError):
    status = 400


class RateLimitedError(ProviderError):
    status = 429


class UnavailableError(ProviderError):
    status = 503


class TransportError(ProviderError):
    pass
