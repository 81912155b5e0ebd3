"""The outbox worker (SPEC §13): claim, mark sending, send over one connection, record.

Never two copies, never a lost decision:
- a worker claims a small batch of due pending rows (`FOR UPDATE SKIP LOCKED`
  on PostgreSQL, so workers never share a row, in one statement that also reads
  the users' addresses; SQLite's single writer takes the write lock at BEGIN)
  and marks them `sending`, committed before any SMTP is spoken, with a lease
  (`next_attempt_at`);
- after each batch the outcomes are written in one transaction: `sent`,
  `failed` with the reason, `skipped` (no address, unsubscribed, suppressed:
  checked per recipient at send time), or back to `pending` with a later
  `next_attempt_at` for a transient failure (4xx, the server unreachable) until
  RETRY_DELAYS run out;
- a row still `sending` when its lease ran out belongs to a worker that died
  mid-batch (`kill -9`, a power cut): it may have been sent, so it is never
  sent again; `recover_stale` marks it `failed: unknown outcome`.

The worker loop (`run`) runs in the process `pavior worker` starts (and
`pavior serve` runs): each second it queues what is due (outbox.queue_due,
the `ongoing` minute check) and sends, at most PAVIOR_EMAIL_RATE a second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from pavior.core.email_config import EmailConfigError, parse_address
from pavior.core.errors import InvalidValue
from pavior.messaging import mail, outbox
from pavior.messaging.models import Delivery, Message, Suppression
from pavior.messaging.transport import Outcome, Transport, open_transport
from pavior.people.models import Person

log = logging.getLogger("pavior.email")
S = Delivery.State

# Rows claimed at once: about a tenth of a second of sending at the configured rate,
# 10 to 50. After a crash at most one batch is "unknown outcome"; a bigger batch
# spends less on the database per email (a claim and a record per batch).
BATCH = 10
MAX_BATCH = 50


def batch_size(rate: float) -> int:
    return MAX_BATCH if rate <= 0 else max(BATCH, min(MAX_BATCH, int(rate / 10)))


LEASE = timedelta(minutes=10)  # a claim older than this belongs to a dead worker
# Waits before the 2nd, 3rd, ... try after a transient failure (about 1 h in all).
RETRY_DELAYS = (60, 300, 900, 2400)
UNKNOWN = "unknown outcome: the worker stopped while sending (not sent again)"


class Pacer:
    """At most `rate` emails a second (0: no limit), with no burst after an idle spell."""

    def __init__(self, rate: float) -> None:
        self.gap = 1.0 / rate if rate > 0 else 0.0
        self.next = 0.0

    def wait(self, stop: threading.Event | None = None) -> None:
        if not self.gap:
            return
        now = time.monotonic()
        self.next = max(self.next, now)
        delay = self.next - now
        if delay > 0:
            if stop is not None:
                stop.wait(delay)
            else:
                time.sleep(delay)
        self.next += self.gap


@dataclass
class Results:
    """A batch's outcomes, written together."""

    done: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    retry: dict[tuple[datetime, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    release: list[int] = field(default_factory=list)
    release_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, row_id: int, state: str, reason: str = "") -> None:
        self.done[(state, reason)].append(row_id)
        self.counts[state] += 1


class Claimed(NamedTuple):
    """A row now `sending`, with what the send-time check needs of its user."""

    id: int
    person_id: int
    attempts: int
    email: str | None  # None also when the user is gone
    subscribed: bool | None
    suppressed: bool


_CLAIM_PG = """
WITH picked AS (
    SELECT id FROM messaging_delivery
    WHERE message_id = %(message)s AND state = 'pending'
      AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)
    LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE messaging_delivery d SET state = 'sending', next_attempt_at = %(lease)s
    FROM picked WHERE d.id = picked.id AND d.state = 'pending'
    RETURNING d.id, d.person_id, d.attempts
)
SELECT c.id, c.person_id, c.attempts, p.email, p.email_subscription,
       EXISTS (SELECT 1 FROM messaging_suppression s
               WHERE s.workspace_id = %(workspace)s
                 AND s.email IN (btrim(p.email), lower(btrim(p.email))))
FROM claimed c LEFT JOIN people_person p ON p.id = c.person_id
"""


def claim(message: Message, now: datetime, limit: int = BATCH) -> list[Claimed]:
    """Due pending rows of a message, now `sending`, with their users' addresses.

    PostgreSQL: one statement (its own transaction): rows locked by another
    worker are skipped. SQLite: one write transaction (the single writer).
    """
    if connection.vendor == "postgresql":
        params: dict[str, Any] = {
            "message": message.pk,
            "now": now,
            "limit": limit,
            "lease": now + LEASE,
            "workspace": message.workspace_id,
        }
        with connection.cursor() as cur:
            cur.execute(_CLAIM_PG, params)
            return [Claimed(*row) for row in cur.fetchall()]
    with transaction.atomic():
        due = Delivery.objects.filter(message_id=message.pk, state=S.PENDING).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )
        rows = list(due.values_list("id", "person_id", "attempts")[:limit])
        if rows:
            Delivery.objects.filter(id__in=[r[0] for r in rows]).update(
                state=S.SENDING, next_attempt_at=now + LEASE
            )
    people = Person.objects.only("id", "email", "email_subscription").in_bulk([r[1] for r in rows])
    emails = {p.email.strip() for p in people.values() if p.email}
    suppressed = {
        outbox.normalise_email(e)
        for e in Suppression.objects.filter(
            workspace_id=message.workspace_id,
            email__in=emails | {outbox.normalise_email(e) for e in emails},
        ).values_list("email", flat=True)
    }
    out = []
    for row_id, person_id, attempts in rows:
        person = people.get(person_id)
        email = person.email if person else None
        out.append(
            Claimed(
                row_id,
                person_id,
                attempts,
                email,
                person.email_subscription if person else None,
                bool(email) and outbox.normalise_email(email or "") in suppressed,
            )
        )
    return out


def _record(results: Results, now: datetime) -> None:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Outcomes need not wait for the disk: if PostgreSQL itself crashes
            # before writing them, the rows stay `sending` and end `failed:
            # unknown outcome`, never sent twice. (The claim before SMTP does wait.)
            with connection.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit TO OFF")
        for (state, reason), ids in results.done.items():
            Delivery.objects.filter(id__in=ids, state=S.SENDING).update(
                state=state,
                reason=reason,
                sent_at=now if state == S.SENT else None,
                attempts=F("attempts") + (0 if state == S.SKIPPED else 1),
                next_attempt_at=None,
            )
        for (when, reason), ids in results.retry.items():
            Delivery.objects.filter(id__in=ids, state=S.SENDING).update(
                state=S.PENDING, reason=reason, next_attempt_at=when, attempts=F("attempts") + 1
            )
        if results.release:
            Delivery.objects.filter(id__in=results.release, state=S.SENDING).update(
                state=S.PENDING, next_attempt_at=results.release_at
            )


def _why_not(row: Claimed) -> str:
    if row.subscribed is None:
        return "user deleted"
    if not (row.email or "").strip():
        return outbox.NO_EMAIL
    if not row.subscribed:
        return outbox.UNSUBSCRIBED
    if row.suppressed:
        return outbox.SUPPRESSED
    return ""


def send_batch(
    message: Message,
    prepared: mail.Prepared,
    transport: Transport,
    pacer: Pacer,
    *,
    now: Callable[[], datetime] = timezone.now,
    stop: threading.Event | None = None,
    limit: int = BATCH,
) -> Results | None:
    """Claim one batch of the message and send it; None when nothing was due."""
    claimed_at = now()
    rows = claim(message, claimed_at, limit)
    if not rows:
        return None
    results = Results()
    batch = mail.Batch(prepared)
    for i, row in enumerate(rows):
        why = _why_not(row)
        if why:
            results.add(row.id, S.SKIPPED, why)
            continue
        assert row.email
        if now() - claimed_at > LEASE / 2:  # a slow server: keep the claim ours
            claimed_at = now()
            Delivery.objects.filter(id__in=[r[0] for r in rows[i:]], state=S.SENDING).update(
                next_attempt_at=claimed_at + LEASE
            )
        pacer.wait(stop)
        outcome = transport.send(batch.copy(row.id, row.person_id, row.email.strip()))
        _note(results, row.id, row.attempts, outcome, now())
        if outcome.kind == "transient" and outcome.server_down:
            # The server is unreachable: the rest of the batch waits with this row,
            # not tried (and not counted as tries).
            results.release = [r[0] for r in rows[i + 1 :]]
            results.release_at = next(iter(results.retry))[0] if results.retry else None
            break
    _record(results, now())
    return results


def _note(results: Results, row_id: int, attempts: int, outcome: Outcome, at: datetime) -> None:
    if outcome.kind == "sent":
        results.add(row_id, S.SENT)
    elif outcome.kind == "transient" and attempts < len(RETRY_DELAYS):
        when = at + timedelta(seconds=RETRY_DELAYS[attempts])
        results.retry[(when, f"will try again: {outcome.reason}"[:300])].append(row_id)
        results.counts["retry"] += 1
    elif outcome.kind == "transient":
        results.add(row_id, S.FAILED, f"gave up after {attempts + 1} tries: {outcome.reason}"[:300])
    else:
        results.add(row_id, S.FAILED, outcome.reason[:300])


def recover_stale(now: datetime | None = None) -> int:
    """Rows left `sending` by a worker that died: failed, never sent again."""
    now = now or timezone.now()
    return Delivery.objects.filter(
        message__channel=Message.Channel.EMAIL, state=S.SENDING, next_attempt_at__lt=now
    ).update(state=S.FAILED, reason=UNKNOWN, next_attempt_at=None)


# --- the worker ---------------------------------------------------------------------


class Worker:
    """One sender: a kept connection, a pacer, the laid-out messages."""

    def __init__(
        self,
        transport_factory: Callable[[], Transport] = open_transport,
        *,
        rate: float | None = None,
        now: Callable[[], datetime] = timezone.now,
    ) -> None:
        self.transport_factory = transport_factory
        self.transport: Transport | None = None
        rate = settings.PAVIOR_EMAIL_RATE if rate is None else rate
        self.pacer = Pacer(rate)
        self.batch = batch_size(rate)
        self.now = now
        self.prepared: dict[int, tuple[datetime, mail.Prepared]] = {}
        self.last_recovery = 0.0
        self.idle_since = time.monotonic()

    def _prepared(self, message: Message) -> mail.Prepared:
        kept = self.prepared.get(message.pk)
        if kept is None or kept[0] != message.updated_at:
            kept = (message.updated_at, mail.prepare(message))
            self.prepared[message.pk] = kept
        return kept[1]

    def tick(self, *, stop: threading.Event | None = None, budget: float = 2.0) -> int:
        """Recover, queue, then send for up to `budget` seconds; returns emails handled."""
        if time.monotonic() - self.last_recovery > 60:
            recover_stale(self.now())
            self.last_recovery = time.monotonic()
        outbox.queue_due(self.now())
        handled = 0
        if mail.email_setup_problem() is not None:
            return 0
        deadline = time.monotonic() + budget
        live = Message.objects.filter(
            channel=Message.Channel.EMAIL, status=Message.Status.LIVE
        ).select_related("workspace")
        for message in live:
            prepared = self._prepared(message)
            while time.monotonic() < deadline and not (stop and stop.is_set()):
                if self.transport is None:
                    self.transport = self.transport_factory()
                results = send_batch(
                    message,
                    prepared,
                    self.transport,
                    self.pacer,
                    now=self.now,
                    stop=stop,
                    limit=self.batch,
                )
                if results is None:
                    break
                handled += sum(results.counts.values())
                if results.release:
                    break  # the server is down: wait for the next tick
        if handled:
            self.idle_since = time.monotonic()
        elif self.transport is not None and time.monotonic() - self.idle_since > 30:
            self.close()  # no idle connection held open for long
        return handled

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def run(self, stop: threading.Event, *, poll: float = 1.0) -> None:
        """Until `stop` is set: tick, and wait `poll` seconds when there was nothing to do."""
        log.info("email worker started")
        try:
            while not stop.is_set():
                try:
                    handled = self.tick(stop=stop)
                except Exception:  # a database hiccup must not stop email for good
                    log.exception("email worker tick failed")
                    handled = 0
                    close_old_connections()
                if not handled:
                    stop.wait(poll)
        finally:
            self.close()
            connection.close()


def start_worker_thread() -> tuple[threading.Thread, threading.Event]:
    """The email worker beside the task worker (`pavior worker`)."""
    stop = threading.Event()
    thread = threading.Thread(target=Worker().run, args=(stop,), name="pavior-email")
    thread.start()
    return thread, stop


# --- "Send test to me" ------------------------------------------------------------------


def send_test(message: Message, to_address: str) -> Outcome:
    """Send the message to one address now, marked as a test; nothing is recorded.

    Its unsubscribe link names no user (the page says it is not valid).
    """
    problem = mail.email_setup_problem()
    if problem is not None:
        raise problem
    try:
        to = parse_address(to_address or "", name="to")
    except EmailConfigError as exc:
        raise InvalidValue(str(exc), field="to") from exc
    if not message.subject.strip():
        raise InvalidValue("An email needs a subject", field="subject")
    prepared = mail.prepare(message, subject_prefix="[Test] ")
    transport = open_transport()
    try:
        return transport.send(mail.outgoing(mail.build(prepared, to, "test")))
    finally:
        transport.close()
