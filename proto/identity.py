"""SPIFFE-style identities carried in certificate URI SANs.

``spiffe://<trust-domain>/<kind>/<name>`` where kind is ``center`` (an agent),
``portal``, ``operator`` or ``hub``. The hub decides identities when it signs;
nobody reads an identity from a request payload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("center", "portal", "operator", "hub")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TRUST_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9.-]{0,252}$")


@dataclass(frozen=True)
class Identity:
    trust_domain: str
    kind: str
    name: str

    @property
    def uri(self) -> str:
        return f"spiffe://{self.trust_domain}/{self.kind}/{self.name}"

    def __str__(self) -> str:
        return self.uri


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name))


def check_center_id(center_id: str) -> str:
    """Return ``center_id`` or raise ValueError saying what a center id looks like."""
    if not _NAME.match(center_id):
        raise ValueError(
            f"invalid center id {center_id!r}: use letters, digits, '.', '_' or '-' "
            "(at most 64 characters, e.g. KR-MR-0001)"
        )
    return center_id


def make(trust_domain: str, kind: str, name: str) -> Identity:
    if not _TRUST_DOMAIN.match(trust_domain):
        raise ValueError(f"invalid trust domain {trust_domain!r}: use a lower-case DNS-like name")
    if kind not in KINDS:
        raise ValueError(f"invalid identity kind {kind!r}: use one of {', '.join(KINDS)}")
    if not _NAME.match(name):
        raise ValueError(f"invalid {kind} name {name!r}")
    return Identity(trust_domain, kind, name)


def parse(uri: str) -> Identity:
    """Parse a SPIFFE URI; raise ValueError if it is not one of ours."""
    prefix = "spiffe://"
    if not uri.startswith(prefix):
        raise ValueError(f"not a SPIFFE URI: {uri!r}")
    parts = uri[len(prefix) :].split("/")
    if len(parts) != 3:
        raise ValueError(f"SPIFFE URI must be spiffe://<domain>/<kind>/<name>: {uri!r}")
    return make(parts[0], parts[1], parts[2])
