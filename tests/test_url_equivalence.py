"""One URL, however spelled, is one destination: a vendor may list it in another spelling.

Amigo's create schema (`format: uri, minLength: 1`) is what pydantic's AnyUrl generates, and AnyUrl
stores `https://Hooks.example.com` as `https://hooks.example.com/`. Compared as written, such a
destination would be planned as a replace on every run (and its duplicates missed). What must hold:

- `canonical_url` maps the equivalent spellings (scheme and host case, the default port, an empty
  path; RFC 3986 6.2.2-6.2.3) to one, is idempotent, never raises, and keeps what is not equivalent
  (userinfo, path, query, fragment, another port) exactly as written;
- a destination the vendor lists in another spelling of its declared URL plans no change, and a
  declared URL spelled two ways in one account is one URL declared twice.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.amigo_helpers import live
from tests.conftest import AmigoServer
from tests.support.workspace import Workspace
from webhookctl.config.urls import canonical_url

hosts = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){1,2}", fullmatch=True)
tails = st.text(alphabet=string.ascii_letters + string.digits + "/?#=&%-._~", max_size=30)


def mixed_case(text: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips + [False] * len(text), strict=False))


@given(host=hosts, path=tails.map(lambda t: "/" + t), flips=st.lists(st.booleans(), max_size=40),
       default_port=st.booleans())
def test_equivalent_spellings_are_one(host: str, path: str, flips: list[bool], default_port: bool) -> None:
    plain = f"https://{host}{path}"
    spelled = f"{mixed_case('https', flips)}://{mixed_case(host, flips[5:])}{':443' if default_port else ''}{path}"
    assert canonical_url(spelled) == canonical_url(plain) == plain


@given(host=hosts, rest=st.sampled_from(["", "?", "#"]).flatmap(lambda mark: tails.map(lambda t: mark + t if mark
                                                                                     else "")))
def test_an_empty_path_is_a_slash(host: str, rest: str) -> None:
    assert canonical_url(f"https://{host}{rest}") == f"https://{host}/{rest}"


@given(url=st.text(max_size=60) | st.builds(lambda h, t: f"https://{h}{t}", hosts, tails))
def test_canonical_is_idempotent_and_never_raises(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@pytest.mark.parametrize(("url", "canonical"), [
    ("https://u:PW@Example.com/P?Q=1#F", "https://u:PW@example.com/P?Q=1#F"),
    ("https://example.com:8443", "https://example.com:8443/"),
    ("https://[FE80::1]:443/x", "https://[fe80::1]/x"),
    ("https://example.com/x?", "https://example.com/x?"),
    ("https://example.com/A%2fB", "https://example.com/A%2fB"),
    ("https://[::1/x", "https://[::1/x"),  # unreadable: left to validation
    ("https://example.com:99999/", "https://example.com:99999/"),
])
def test_what_is_not_equivalent_is_kept(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_a_url_the_vendor_spells_otherwise_plans_no_change(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("root", "https://Root.Example.com")
    workspace.add("hook", "https://hook.example.com/path")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert sorted(d["url"] for d in live(amigo_server)) == ["https://hook.example.com/path",
                                                           "https://root.example.com/"]
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0
    # The vendor lists both in other spellings (as a URL parser may store them): still no change.
    with amigo_server.emulator.store.transaction("org:" + amigo_server.org) as document:
        for destination in document["destinations"].values():
            destination["url"] = destination["url"].replace("https://", "HTTPS://").replace(".com/", ".COM:443/")
    plan = workspace.run("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout
    assert "No changes" in plan.stdout


def test_one_url_spelled_twice_is_declared_twice(workspace: Workspace) -> None:
    workspace.add("one", "https://hook.example.com")
    workspace.add("two", "https://HOOK.example.com:443/")
    result = workspace.run("validate")
    assert result.exit_code == 1
    assert "url is already declared for provider 'prod'" in result.output
