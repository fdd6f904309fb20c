"""E-mail to the next actor at every transition: the request id, its title and what is
expected of them, nothing else (no person's name, no data). Messages go through the outbox
table in the same process: a failed SMTP delivery stays queued and is retried."""

from __future__ import annotations

import smtplib
import threading
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

from sqlalchemy import select

from primex.audit.log import AuditLog
from primex.service.db import Account, Outbox, utcnow
from primex.service.state import ServiceState

# state reached -> (role to notify, what they do next); "requester" = the submitting key
NEXT_ACTOR: dict[str, tuple[str, str]] = {
    "submitted": ("privacy_officer", "review the request"),
    "returned": ("requester", "edit the request as asked and submit it again"),
    "rejected": ("requester", "the request was rejected (final)"),
    "approved": ("spp_operator", "run the extraction"),
    "extracted": ("spp_operator", "send the extract to the BCSS for linkage"),
    "coded": ("spp_operator", "run the disclosure control"),
    "protected": ("privacy_officer", "check the protected output"),
    "output_checked": ("president", "sign off the release"),
    "signed_off": ("spp_operator", "have the witness cosign, then build the release"),
    "released": ("requester", "download and open the package"),
}
MAX_ATTEMPTS = 5


class Notifier:
    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="primex-mail")
        self._lock = threading.Lock()

    def transition(self, log: AuditLog, request: str) -> int:
        """Queue the e-mails for the state `request` just reached; returns how many."""
        st = log.state(request)
        target = NEXT_ACTOR.get(st.state or "")
        if target is None:
            return 0
        role, todo = target
        keys = ([st.requester] if role == "requester" and st.requester else
                [k.name for k in log.registry.by_role(role)])
        subject = f"[primex] {request}: {st.state}"
        body = (f"Request {request} \"{st.title or ''}\" is now {st.state}.\n"
                f"Next: {todo}.\n\nOpen the service to see it (nothing else is sent by "
                "e-mail).\n")
        queued = 0
        with self.state.db() as db:
            rows = db.scalars(select(Account).where(Account.key_name.in_(keys))).all()
            for account in rows:
                if account.email:
                    db.add(Outbox(recipient=account.email, subject=subject, body=body))
                    queued += 1
        if queued and self.state.settings.smtp is not None:
            self._pool.submit(self.flush)
        return queued

    def flush(self) -> int:
        """Send what is queued; returns how many went out."""
        smtp = self.state.settings.smtp
        if smtp is None:
            return 0
        sent = 0
        with self._lock, self.state.db() as db:
            pending = db.scalars(
                select(Outbox).where(Outbox.sent.is_(None), Outbox.attempts < MAX_ATTEMPTS)
                .order_by(Outbox.id)
            ).all()
            if not pending:
                return 0
            try:
                with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
                    if smtp.starttls:
                        client.starttls()
                    for row in pending:
                        row.attempts += 1
                        msg = EmailMessage()
                        msg["From"], msg["To"], msg["Subject"] = (smtp.sender, row.recipient,
                                                                  row.subject)
                        msg.set_content(row.body)
                        client.send_message(msg)
                        row.sent = utcnow()
                        sent += 1
            except (OSError, smtplib.SMTPException):
                pass  # stays queued; the next transition or `flush` retries
        return sent

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
