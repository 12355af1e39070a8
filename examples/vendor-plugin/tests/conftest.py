"""Readable failures from webhookctl's conformance kit: pytest rewrites its assertions."""

import pytest

pytest.register_assert_rewrite("webhookctl.vendors.conformance")
