"""Names shared by the face_access modules: the domain, events, methods and defaults."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "face_access"
TERMINAL_KIND: Final = "face_terminal"
"""The Linli MQTT device kind of face terminals."""

EVENT_PASSAGE: Final = "face_access_passage"
EVENT_ANOMALY: Final = "face_access_anomaly"
EVENT_CREDENTIAL_USED: Final = "face_access_credential_used"

PRIVATE_FIELDS: Final = frozenset({"template", "snapshot", "card_no", "qr", "pin"})
"""Terminal message fields that never reach the event bus (biometrics and credentials)."""

METHOD_FACE: Final = "face"
METHOD_CARD: Final = "card"
METHOD_QR: Final = "qr"
METHOD_PIN: Final = "pin"
METHODS: Final = (METHOD_FACE, METHOD_CARD, METHOD_QR, METHOD_PIN)
NON_BIOMETRIC_METHODS: Final = frozenset({METHOD_CARD, METHOD_QR, METHOD_PIN})

CRED_CARD: Final = "card"
CRED_QR: Final = "qr"
CRED_PIN: Final = "pin"
CRED_VISITOR_QR: Final = "visitor_qr"
CRED_FACE: Final = "face"
"""Not a row of the credentials table: the id of a person's face enrolment in events."""
CREDENTIAL_TYPES: Final = (CRED_CARD, CRED_QR, CRED_PIN, CRED_VISITOR_QR)
PERSONAL_TYPES: Final = frozenset({CRED_CARD, CRED_QR, CRED_PIN})
"""Credential types that give a person a non-biometric way in."""

ANOMALY_TAILGATING: Final = "tailgating"
ANOMALY_REVERSE: Final = "reverse_passing"

TERMINAL_MQTT: Final = "mqtt"
TERMINAL_HIKVISION: Final = "hikvision"

DECIDED_BY_TERMINAL: Final = "terminal"
DECIDED_BY_HUB: Final = "hub"

DATA_FACE_TEMPLATE: Final = "face_template"
DATA_FACE_SNAPSHOT: Final = "face_snapshot"
DATA_ACCESS_LOG: Final = "access_log"
CONSENT_FACE: Final = "face"

MIN_DIMS: Final = 128
MAX_DIMS: Final = 1024
MAX_SNAPSHOT_BYTES: Final = 48 * 1024
SNAPSHOT_DIR: Final = ("face_access", "snapshots")
"""Under the config dir's ``.linli``."""

AUDIT_READ: Final = "read_personal_data"
