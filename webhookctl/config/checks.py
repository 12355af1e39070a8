"""Rules that span fields and files, checked before anything touches an API."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from webhookctl.config import models
from webhookctl.config.desired import Config, DesiredDestination
from webhookctl.config.names import name_problems
from webhookctl.config.problems import Location, Path_, Problem
from webhookctl.config.urls import base_url_problem, canonical_url, https_problem
from webhookctl.config.yamlsource import SourceMap
from webhookctl.vendors import registry
from webhookctl.vendors.vendor import FieldProblem, Vendor


def _field_path(path: Path_, field: str) -> Path_:
    """`events[2]` under `path` -> (*path, "events", 2)."""
    name, _, index = field.partition("[")
    return (*path, name, int(index.rstrip("]"))) if index else (*path, name)


def _located(found: list[FieldProblem], path: Path_, source: SourceMap) -> list[Problem]:
    problems = []
    for problem in found:
        at = _field_path(path, problem.field)
        where = {"key": source.key, "value": source.value}.get(problem.where, lambda _: source.value(path))(at)
        problems.append(Problem(where, problem.message, at))
    return problems


def _vendor_values(model: Any, vendor: Vendor) -> dict[str, Any]:
    """The vendor's fields that were written on `model` (a destination or the defaults)."""
    return {name: getattr(model, name) for name in vendor.fields_model.model_fields
            if getattr(model, name, None) is not None}


# A record's metadata holds its URL: Vault's custom_metadata values and AWS's Description have a size.
_METADATA_URL_LIMITS = {"vault": 512, "aws-secretsmanager": 2048}


def semantic_problems(
    parsed: models.ConfigFileBase,
    source: SourceMap,
    files: list[str],
    indices: list[int],
    failed_providers: set[str],
) -> tuple[Config | None, list[Problem]]:
    """`indices[i]` is the position of `parsed.destinations[i]` in the merged file list."""
    problems: list[Problem] = name_problems(parsed, source, indices)
    vendors = registry()
    defaults = getattr(parsed, "defaults", None) or models.defaults_model()()
    providers: dict[str, Any] = dict(getattr(parsed, "providers", {}))
    destinations: list[Any] = list(getattr(parsed, "destinations", []))

    accounts: dict[str, str] = {}
    for name, provider in providers.items():
        base_url = getattr(provider, "base_url", None)
        base_problem = base_url_problem(base_url) if base_url not in (None, "emulator") else None
        if base_problem:
            problems.append(Problem(source.value(("providers", name, "base_url")), base_problem,
                                    ("providers", name, "base_url")))
            continue
        accounts[name] = vendors[provider.type].account(provider)

    for vendor in vendors.values():
        check = getattr(vendor, "defaults_problems", None)
        if check is not None:
            problems += _located(check(_vendor_values(defaults, vendor)), ("defaults",), source)

    backend: str = getattr(parsed.secrets, "backend", "file")
    url_limit = _METADATA_URL_LIMITS.get(backend)
    seen_names: dict[str, Location] = {}
    seen_urls: dict[tuple[str, str], tuple[Location, str]] = {}
    per_account: dict[str, list[tuple[int, str]]] = defaultdict(list)
    desired: list[DesiredDestination] = []
    shared_fields: dict[str, dict[str, Any]] = {}
    for index, destination in zip(indices, destinations, strict=True):
        path: Path_ = ("destinations", index)
        first = seen_names.get(destination.name)
        if first is not None:
            problems.append(Problem(source.value((*path, "name")),
                                    f"destination name {destination.name!r} is already used at {first}", (*path, "name")))
        else:
            seen_names[destination.name] = source.value((*path, "name"))
        # A reference left as written (`validate --no-env`, or an unset variable, reported already) is
        # checked once it is resolved.
        url_problem = None if "${" in destination.url else https_problem(destination.url)
        if url_problem is None and url_limit is not None and len(destination.url) > url_limit:
            url_problem = (f"url is longer than {url_limit} characters, the most the {backend} backend keeps in "
                           "a record's metadata")
        if url_problem:
            problems.append(Problem(source.value((*path, "url")), url_problem, (*path, "url")))
        provider = providers.get(destination.provider)
        if provider is None and destination.provider in failed_providers:
            continue
        if provider is None:
            known = ", ".join(sorted({*providers, *failed_providers})) or "none defined"
            problems.append(Problem(source.value((*path, "provider")),
                                    f"unknown provider {destination.provider!r} (providers: {known})", (*path, "provider")))
            continue
        vendor = vendors[provider.type]
        account = accounts.get(destination.provider, destination.provider)
        # The same URL twice in one account (however spelled) is one destination claimed twice, whichever
        # provider declares it.
        url = canonical_url(destination.url)
        url_key = (account, url)
        if url_key in seen_urls:
            first_at, first_provider = seen_urls[url_key]
            same = "" if first_provider == destination.provider else ", which reaches the same account,"
            problems.append(Problem(source.value((*path, "url")),
                                    f"url is already declared for provider {first_provider!r}{same} at {first_at}",
                                    (*path, "url")))
        else:
            seen_urls[url_key] = (source.value((*path, "url")), destination.provider)
        for other in vendors.values():
            if other is vendor:
                continue
            for name in other.fields_model.model_fields:
                if name not in vendor.fields_model.model_fields and getattr(destination, name, None) is not None:
                    own = ", ".join(vendor.fields_model.model_fields)
                    problems.append(Problem(source.key((*path, name)),
                                            f"{name!r} is not a field of {vendor.title} destinations (they take {own})",
                                            (*path, name)))
        fields, found = vendor.destination_fields(_vendor_values(destination, vendor), _vendor_values(defaults, vendor))
        fields = _shared(fields, shared_fields)
        problems += _located(found, path, source)
        per_account[account].append((index, destination.name))
        rotation = destination.rotation or defaults.rotation
        max_age: timedelta | None = rotation.max_age_delta if rotation else None
        desired.append(DesiredDestination(
            name=destination.name, provider=destination.provider, url=url, fields=fields,
            rotation_max_age=max_age, protect=destination.protect,
        ))

    problems += _cap_problems(per_account, providers, accounts, source)
    if problems:
        return None, problems
    return Config(
        providers=providers,
        secrets=parsed.secrets or models.FileSecrets(),
        defaults=defaults,
        settings=parsed.settings or models.Settings(),
        destinations=desired,
        files=files,
        accounts=accounts,
    ), []


def _shared(fields: dict[str, Any], seen: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One dict for equal vendor fields (most destinations of an estate declare the same): ~250 bytes
    per destination otherwise. Nothing changes a destination's fields after this (the planner copies
    them); equal means the same repr, keys in the same order (so True and 1 are not the same field).
    A repr, not JSON: `validate` imports no json module."""
    return seen.setdefault(repr(fields), fields)


def _cap_problems(per_account: dict[str, list[tuple[int, str]]], providers: dict[str, Any],
                  accounts: dict[str, str], source: SourceMap) -> list[Problem]:
    problems = []
    vendors = registry()
    for account, entries in per_account.items():
        provider = next(p for name, p in providers.items() if accounts.get(name, name) == account)
        vendor = vendors[provider.type]
        cap = vendor.capabilities.max_destinations
        if cap is None or len(entries) <= cap:
            continue
        index = entries[cap][0]
        names = ", ".join(name for _, name in entries)
        where = getattr(provider, "organization", None)
        label = f"{vendor.title} organization {where!r}" if where else f"{vendor.title} account {account!r}"
        problems.append(Problem(
            source.value(("destinations", index)),
            f"{label} would have {len(entries)} destinations; at most {cap} are allowed ({names})",
            ("destinations", index),
        ))
    return problems
