"""Which access-control entries grant control of an object (the ANSSI "dangerous ACEs")."""

from __future__ import annotations

from careops.directory.engine import sd

# Attribute and extended-right GUIDs (schemaIDGUID / rightsGuid, lower case).
MEMBER = "bf9679c0-0de6-11d0-a285-00aa003049e2"
SPN = "f3a64788-5306-11d1-a9c5-0000f80367c1"
KEY_CREDENTIAL_LINK = "5b47d60f-6090-40b2-9f37-2a4de88f3063"
GP_LINK = "f30e3bbe-9ff0-11d1-b603-0000f80367c1"
GPC_FILE_SYS_PATH = "f30e3bc1-9ff0-11d0-b603-0000f80367c1"
ALLOWED_TO_ACT = "3f78c3e5-f79a-46bd-a0b8-9d18116ddc79"
SCRIPT_PATH = "bf9679a8-0de6-11d0-a285-00aa003049e2"
USER_FORCE_CHANGE_PASSWORD = "00299570-246d-11d0-a768-00aa006e0529"  # noqa: S105 (a GUID)
REPLICATION_GET_CHANGES_ALL = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"
REPLICATION_GET_CHANGES_IN_FILTERED_SET = "89e95b76-444d-4c62-991a-0facbeda640c"
CERTIFICATE_ENROLL = "0e10c968-78fb-11d2-90d4-00c04f79dc55"
CERTIFICATE_AUTOENROLL = "a05b8cc2-17bc-4802-a710-e7c15ab866a2"

DANGEROUS_PROPERTIES = {
    MEMBER: "WriteMember",
    SPN: "WriteSPN",
    KEY_CREDENTIAL_LINK: "AddKeyCredentialLink",
    GP_LINK: "WriteGPLink",
    GPC_FILE_SYS_PATH: "WriteGPCFileSysPath",
    ALLOWED_TO_ACT: "WriteRBCD",
    SCRIPT_PATH: "WriteScriptPath",
}
DANGEROUS_EXTENDED = {
    USER_FORCE_CHANGE_PASSWORD: "ForceChangePassword",
    REPLICATION_GET_CHANGES_ALL: "DCSync",
    REPLICATION_GET_CHANGES_IN_FILTERED_SET: "DCSyncFiltered",
}


def control_rights(ace: sd.Ace) -> tuple[str, ...]:
    """The control rights an ACE grants on its object (empty when harmless or inherit-only)."""
    if not ace.allow or not ace.effective:
        return ()
    mask = ace.mask
    if mask & sd.GENERIC_ALL or mask & sd.FULL_CONTROL == sd.FULL_CONTROL:
        return ("GenericAll",)
    rights: list[str] = []
    if mask & sd.WRITE_DAC:
        rights.append("WriteDacl")
    if mask & sd.WRITE_OWNER:
        rights.append("WriteOwner")
    if mask & sd.GENERIC_WRITE:
        rights.append("GenericWrite")
    otype = ace.object_type
    if mask & sd.DS_WRITE_PROPERTY:
        if otype is None:
            rights.append("WriteAllProperties")
        elif otype in DANGEROUS_PROPERTIES:
            rights.append(DANGEROUS_PROPERTIES[otype])
    if mask & sd.DS_CONTROL_ACCESS:
        if otype is None:
            rights.append("AllExtendedRights")
        elif otype in DANGEROUS_EXTENDED:
            rights.append(DANGEROUS_EXTENDED[otype])
    if mask & sd.DS_SELF and otype == MEMBER:
        rights.append("AddSelf")
    return tuple(rights)


def can_enroll(ace: sd.Ace) -> bool:
    """True when an ACE lets its trustee enrol on a certificate template."""
    if not ace.allow or not ace.effective:
        return False
    if ace.mask & sd.GENERIC_ALL or ace.mask & sd.FULL_CONTROL == sd.FULL_CONTROL:
        return True
    return bool(ace.mask & sd.DS_CONTROL_ACCESS) and ace.object_type in (
        None,
        CERTIFICATE_ENROLL,
        CERTIFICATE_AUTOENROLL,
    )
