"""Rules that span fields and files, checked before anything touches an API."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from webhookctl.config import models
from webhookctl.config.desired import Config, DesiredDestination
from webhookctl.config.names import name_problems
from webhookctl.config.problems import Location, Problem
from webhookctl.config.urls import base_url_problem, https_problem
from webhookctl.config.yamlsource import SourceMap
from webhookctl.vocabulary import AMIGO_MAX_DESTINATIONS, AMIQUS_SUBSCRIBABLE

AMIGO_FIELDS = ("accepted_types", "retry_attempts")
AMIQUS_FIELDS = ("events", "enabled")


def semantic_problems(
    parsed: models.ConfigFile,
    source: SourceMap,
    files: list[str],
    indices: list[int],
    failed_providers: set[str],
) -> tuple[Config | None, list[Problem]]:
    """`indices[i]` is the position of `parsed.destinations[i]` in the merged file list."""
    problems: list[Problem] = name_problems(parsed, source, indices)
    defaults = parsed.defaults or models.Defaults()

    for name, provider in parsed.providers.items():
        base_problem = base_url_problem(provider.base_url) if provider.base_url not in (None, "emulator") else None
        if base_problem:
            problems.append(Problem(source.value(("providers", name, "base_url")), base_problem,
                                    ("providers", name, "base_url")))

    if defaults.events is not None:
        problems += _event_problems(defaults.events, ("defaults", "events"), source)

    seen_names: dict[str, Location] = {}
    seen_urls: dict[tuple[str, str], Location] = {}
    per_org: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    desired: list[DesiredDestination] = []
    for index, destination in zip(indices, parsed.destinations, strict=True):
        path = ("destinations", index)
        here = source.value(path)
        first = seen_names.get(destination.name)
        if first is not None:
            problems.append(Problem(source.value((*path, "name")),
                                    f"destination name {destination.name!r} is already used at {first}", (*path, "name")))
        else:
            seen_names[destination.name] = source.value((*path, "name"))
        url_problem = https_problem(destination.url)
        if url_problem:
            problems.append(Problem(source.value((*path, "url")), url_problem, (*path, "url")))
        found = parsed.providers.get(destination.provider)
        if found is None and destination.provider in failed_providers:
            continue
        if found is None:
            known = ", ".join(sorted({*parsed.providers, *failed_providers})) or "none defined"
            problems.append(Problem(source.value((*path, "provider")),
                                    f"unknown provider {destination.provider!r} (providers: {known})", (*path, "provider")))
            continue
        provider = found
        url_key = (destination.provider, destination.url)
        if url_key in seen_urls:
            problems.append(Problem(source.value((*path, "url")),
                                    f"url is already declared for provider {destination.provider!r} at {seen_urls[url_key]}",
                                    (*path, "url")))
        else:
            seen_urls[url_key] = source.value((*path, "url"))
        fields, field_problems = _vendor_fields(destination, provider, defaults, source, path)
        problems += field_problems
        if isinstance(provider, models.AmigoProvider):
            per_org[(provider.base_url, provider.organization)].append((index, destination.name))
        rotation = destination.rotation or defaults.rotation
        max_age: timedelta | None = rotation.max_age_delta if rotation else None
        desired.append(DesiredDestination(
            name=destination.name, provider=destination.provider, url=destination.url, fields=fields,
            rotation_max_age=max_age, protect=destination.protect, location=here,
        ))

    for (_, organization), entries in per_org.items():
        if len(entries) > AMIGO_MAX_DESTINATIONS:
            index = entries[AMIGO_MAX_DESTINATIONS][0]
            names = ", ".join(name for _, name in entries)
            problems.append(Problem(
                source.value(("destinations", index)),
                f"Amigo organization {organization!r} would have {len(entries)} destinations; "
                f"at most {AMIGO_MAX_DESTINATIONS} are allowed ({names})",
                ("destinations", index),
            ))
    if problems:
        return None, problems
    return Config(
        providers=dict(parsed.providers),
        secrets=parsed.secrets or models.FileSecrets(),
        defaults=defaults,
        settings=parsed.settings or models.Settings(),
        destinations=desired,
        files=files,
    ), []


def _event_problems(events: list[str], path: tuple[str | int, ...], source: SourceMap) -> list[Problem]:
    problems = []
    if not events:
        problems.append(Problem(source.value(path), "events must list at least one event", path))
    seen: set[str] = set()
    for index, event in enumerate(events):
        if event not in AMIQUS_SUBSCRIBABLE:
            hint = " ('ping' cannot be subscribed to)" if event == "ping" else ""
            problems.append(Problem(source.value((*path, index)), f"unknown Amiqus event {event!r}{hint}", (*path, index)))
        if event in seen:
            problems.append(Problem(source.value((*path, index)), f"event {event!r} is listed twice", (*path, index)))
        seen.add(event)
    return problems


def _vendor_fields(
    destination: models.Destination,
    provider: models.AmigoProvider | models.AmiqusProvider,
    defaults: models.Defaults,
    source: SourceMap,
    path: tuple[str | int, ...],
) -> tuple[dict[str, Any], list[Problem]]:
    problems: list[Problem] = []
    is_amigo = isinstance(provider, models.AmigoProvider)
    foreign = AMIQUS_FIELDS if is_amigo else AMIGO_FIELDS
    vendor = "Amigo" if is_amigo else "Amiqus"
    own = ", ".join(AMIGO_FIELDS if is_amigo else AMIQUS_FIELDS)
    for name in foreign:
        if getattr(destination, name) is not None:
            problems.append(Problem(source.key((*path, name)),
                                    f"{name!r} is not a field of {vendor} destinations (they take {own})", (*path, name)))
    if is_amigo:
        accepted = destination.accepted_types if destination.accepted_types is not None else defaults.accepted_types
        if accepted is None:
            problems.append(Problem(source.value(path), "missing required key 'accepted_types'", (*path, "accepted_types")))
        retry = destination.retry_attempts or defaults.retry_attempts or 3
        return {"accepted_types": list(accepted or []), "retry_attempts": retry}, problems
    events = destination.events if destination.events is not None else defaults.events
    if destination.events is not None:
        problems += _event_problems(destination.events, (*path, "events"), source)
    if events is None:
        problems.append(Problem(source.value(path), "missing required key 'events'", (*path, "events")))
    enabled = destination.enabled if destination.enabled is not None else defaults.enabled
    return {"events": list(events or []), "enabled": True if enabled is None else enabled}, problems
