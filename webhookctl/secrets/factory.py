"""Open the configured secrets backend (clients are imported only when chosen)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from webhookctl.config import models
from webhookctl.extras import require_extra
from webhookctl.secrets.base import SecretsBackend
from webhookctl.secrets.file import FileBackend


def open_backend(config: models.Secrets, environ: Mapping[str, str] | None = None) -> SecretsBackend:
    environ = os.environ if environ is None else environ
    if isinstance(config, models.FileSecrets):
        return FileBackend(config.directory, config.key_template)
    require_extra(config.backend)
    if isinstance(config, models.VaultSecrets):
        from webhookctl.secrets.vault import VaultBackend

        return VaultBackend(config, environ)
    if isinstance(config, models.AwsSecrets):
        from webhookctl.secrets.aws import AwsBackend

        return AwsBackend(config)
    if isinstance(config, models.SopsSecrets):
        from webhookctl.secrets.sops import SopsBackend

        return SopsBackend(config, environ)
    from webhookctl.secrets.exec import ExecBackend

    return ExecBackend(config, Path.cwd())
