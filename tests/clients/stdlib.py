"""Messages written by the standard library's own generator, as Python scripts and web mailers write them:
`EmailMessage` with `headerregistry.Address` under `policy.SMTP` and `policy.default`, and the legacy API
(`MIMEText`, `formataddr`) under `compat32`, each at line lengths 78 and 998. Long Thai display names fold
before the address (modern policies) or into one long encoded word split across lines (compat32)."""

from __future__ import annotations

import io
from email import policy as policies
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

from tests.clients import NIL_BODY, NOV_ARRIVAL, SECRETARIAT

POLICIES = ("SMTP", "default", "compat32")
LINE_LENGTHS = (78, 998)
SUBJECT = "รายงานข้อร้องเรียน ประจำเดือนพฤศจิกายน 2569 (ไม่มีข้อร้องเรียน) ส่งโดยระบบสารบรรณอิเล็กทรอนิกส์"


def nil_message(name: str, address: str, policy_name: str, line_length: int, *, body: str = NIL_BODY,
                message_id: str = "<stdlib.nil@anamai.example.go.th>") -> bytes:
    """A nil statement from `name <address>` written by the standard library under the named policy."""
    if policy_name == "compat32":
        legacy: Message = MIMEText(body, "plain", "utf-8")
        legacy["From"] = formataddr((name, address), charset="utf-8") if name else address
        return _generate(legacy, policies.compat32.clone(max_line_length=line_length), message_id)
    policy = getattr(policies, policy_name).clone(max_line_length=line_length)
    msg = EmailMessage(policy=policy)
    msg["From"] = Address(display_name=name, addr_spec=address)
    msg.set_content(body)
    return _generate(msg, policy, message_id)


def _generate(msg: Message, policy: policies.Policy, message_id: str) -> bytes:
    msg["To"] = SECRETARIAT
    msg["Subject"] = SUBJECT
    msg["Date"] = format_datetime(NOV_ARRIVAL)
    msg["Message-ID"] = message_id
    out = io.BytesIO()
    BytesGenerator(out, policy=policy).flatten(msg)
    return out.getvalue()
