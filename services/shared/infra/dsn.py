"""PostgreSQL connection URLs: swap the user or database of a URL, keep everything else."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit


def with_parts(
    url: str, *, user: str | None = None, database: str | None = None, scheme: str | None = None
) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, _, hostport = netloc.rpartition("@")
    if not _:
        userinfo, hostport = "", netloc
    if user is not None:
        # a role switch drops the password: local roles use trust or peer, remote ones need their own URL
        userinfo = quote(user, safe="")
    new_netloc = f"{userinfo}@{hostport}" if userinfo else hostport
    path = "/" + quote(database, safe="") if database is not None else parts.path
    return urlunsplit((scheme or parts.scheme, new_netloc, path, parts.query, parts.fragment))


def database_of(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def user_of(url: str) -> str | None:
    parts = urlsplit(url)
    return unquote(parts.username) if parts.username else None


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)
