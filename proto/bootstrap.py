"""The public bootstrap credential: the client certificate a caller presents before it has one.

The hub serves enrollment on the same port as Sync (one outbound port through a center's
firewall), like SPIRE serves node attestation beside its SVID API. That needs a TLS server
that *requests* a client certificate, verifies it when one is presented, and still lets a
caller without one reach ``EnrollmentService/Enroll``. grpcio for Python cannot express
that: ``require_client_auth=False`` means "do not ask for a certificate at all"
(``GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE``), so the hub would lose every caller's
identity.

So the hub requires a client certificate from everyone, and trusts, beside its CAs, this one
self-signed certificate whose private key is published right here. A caller that has not
enrolled yet presents it. It proves nothing about the caller (anyone can use it); the hub
treats its holder as anonymous, which may call only Enroll and health checks, and it never
signs or vouches for anything (it is not a CA, and the hub checks in code that every other
peer certificate was issued by one of its own CAs). Expired certificates and certificates
of a foreign CA still fail the TLS handshake.

Agents and installers::

    creds = grpc.ssl_channel_credentials(
        root_certificates=pinned_ca_pem,
        private_key=bootstrap.KEY_PEM,
        certificate_chain=bootstrap.CERT_PEM,
    )

Never change these bytes: every hub and every agent must agree on them.
"""

from __future__ import annotations

import base64

CERT_PEM = b"""\
-----BEGIN CERTIFICATE-----
MIIBrjCCAVSgAwIBAgIBATAKBggqhkjOPQQDAjBEMRIwEAYDVQQKDAlpcGxhdGZv
cm0xLjAsBgNVBAMMJWlwbGF0Zm9ybSBwdWJsaWMgYm9vdHN0cmFwIGNyZWRlbnRp
YWwwIBcNMDAwMTAxMDAwMDAwWhgPOTk5OTEyMzEyMzU5NTlaMEQxEjAQBgNVBAoM
CWlwbGF0Zm9ybTEuMCwGA1UEAwwlaXBsYXRmb3JtIHB1YmxpYyBib290c3RyYXAg
Y3JlZGVudGlhbDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABO1EsiA+VgsmRiEb
e8HHQJ2gS/qEGGe5QbfqaS3MW/HjPz8YdjozlII19xF1qjz3UoJXHEvDB0kp4YwT
3rGiIO+jNTAzMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQM
MAoGCCsGAQUFBwMCMAoGCCqGSM49BAMCA0gAMEUCIChc1kpjvM2KOCnG1ZWTS+ek
Q0PSln45ltcousKqVVBHAiEAtjKuCPK4B3pyUQjmjDsVbeqSVNvUKu01wMdlDPkj
0mY=
-----END CERTIFICATE-----
"""
"""Self-signed, not a CA, client-auth only, valid 2000-01-01 .. 9999-12-31."""

# Published on purpose (see the module docstring): this key authenticates nobody.
KEY_PEM = b"""\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgju8xhvCgUavm0wU2
7FWPftPsXvrkX4Qa6gKWNdyvPsOhRANCAATtRLIgPlYLJkYhG3vBx0CdoEv6hBhn
uUG36mktzFvx4z8/GHY6M5SCNfcRdao891KCVxxLwwdJKeGME96xoiDv
-----END PRIVATE KEY-----
"""

FINGERPRINT = "sha256:4508a941c6626c87806011c76df9295c7b4fc63facbffcd2dd3dc5a0e499bef4"
"""``sha256:HEX`` of the certificate's DER encoding."""


def _der(pem: bytes) -> bytes:
    body = b"".join(
        line.strip() for line in pem.strip().splitlines() if line and not line.startswith(b"-----")
    )
    return base64.b64decode(body)


CERT_DER = _der(CERT_PEM)


def is_bootstrap(cert_pem: bytes) -> bool:
    """True if ``cert_pem`` (one PEM certificate) is the bootstrap certificate."""
    try:
        return _der(cert_pem) == CERT_DER
    except ValueError:
        return False
