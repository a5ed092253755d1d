"""The wire layer: everything between a Python call and the bytes on the network.

HTTP transport (timeouts, TLS and redirect policy, deadlines, bounded replies, retries),
SOAP envelopes and faults, MTOM/XOP multipart, safe XML, endpoint plumbing, spooling and
hashing, file locks and timestamps. It imports nothing above it: only the kernel
(:mod:`bipro_ruv.errors`, :mod:`bipro_ruv.models`, :mod:`bipro_ruv._redact`, which masks
secrets) and its own modules (the import contracts in ``pyproject.toml`` enforce it).
Services (auth, transfer, extranet, and GDV, data packages, TGIC to come) build on it.
See ``docs/architecture.md``.
"""
