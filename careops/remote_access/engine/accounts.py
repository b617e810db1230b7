"""Directory facts about the accounts named on access paths (from an AD engine dump)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from careops.directory.engine.dump import Dump, load_dump
from careops.directory.engine.model import UAC_DONT_EXPIRE, Directory, filetime

GENERIC = re.compile(
    r"^(admin|administrat\w*|support|maint\w*|telemaint\w*|presta\w*|vendor|fournisseur|"
    r"tech\w*|service|test|user|guest|invite|externe?|ext|hotline|sav)[\W_]*\d*$",
    re.I,
)
STALE_DAYS = 90


@dataclass
class AccountFacts:
    name: str
    found: bool
    enabled: bool = False
    never_expires: bool | None = False  # None: the dump does not carry accountExpires
    password_never_expires: bool = False
    last_logon: str = ""
    stale: bool = False
    privileged: bool = False
    generic: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class DirectoryView:
    domain: str
    collected_at: str
    accounts: dict[str, AccountFacts]

    def facts(self, name: str) -> AccountFacts:
        key = name.split("\\")[-1].split("@")[0].lower()
        return self.accounts.get(key) or AccountFacts(name=name, found=False)


def _collected(dump: Dump) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(dump.collected_at.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.now(dt.UTC)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def from_dump(dump: Dump) -> DirectoryView:
    """Facts about every user account of the dump, keyed by lower-case sAMAccountName."""
    directory = Directory(dump)
    now = _collected(dump)
    privileged = {e.key for e in directory.privileged_accounts}
    accounts: dict[str, AccountFacts] = {}
    for entry in directory.users:
        name = entry.get("samaccountname")
        if not name:
            continue
        raw_expiry = entry.get("accountexpires")
        expires = filetime(raw_expiry)
        last = filetime(entry.get("lastlogontimestamp")) or filetime(entry.get("lastlogon"))
        created = None
        when_created = entry.get("whencreated")
        if when_created:
            from careops.directory.engine.model import gentime

            created = gentime(when_created)
        reference = last or created
        facts = AccountFacts(
            name=name,
            found=True,
            enabled=entry.enabled,
            never_expires=None if raw_expiry is None else expires is None,
            password_never_expires=bool(entry.uac & UAC_DONT_EXPIRE),
            last_logon=last.isoformat() if last else "",
            stale=entry.enabled and (reference is None or (now - reference).days > STALE_DAYS),
            privileged=entry.key in privileged,
            generic=bool(GENERIC.match(name)),
        )
        if facts.enabled and facts.never_expires is True:
            facts.problems.append("actif sans date d'expiration")
        if facts.stale:
            facts.problems.append(f"actif et inutilisé depuis plus de {STALE_DAYS} jours")
        if facts.privileged:
            facts.problems.append("membre d'un groupe privilégié")
        if facts.generic:
            facts.problems.append("nom générique (compte partagé probable)")
        accounts[name.lower()] = facts
    return DirectoryView(dump.domain, dump.collected_at, accounts)


def load(path: str) -> DirectoryView:
    """Read an ``careops ad collect`` dump (gzip JSON); DumpError in French when unreadable."""
    return from_dump(load_dump(path))


def summary(view: DirectoryView, names: list[str]) -> list[dict[str, Any]]:
    return [view.facts(n).__dict__ for n in names]
