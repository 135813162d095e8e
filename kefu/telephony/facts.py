"""Facts of telephony that other apps react to (typed events of kefu.core.events; docs/events.md).

Published inside the transaction that makes the fact; listeners run after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from kefu.core.events import Event


@dataclass(frozen=True)
class CallAnswered(Event):
    """An agent answered a call (the screen pop, P2). `user_id` is None when the PBX agent id is not
    linked to a kefu user."""

    call_id: int
    company_id: int
    user_id: int | None = None


@dataclass(frozen=True)
class TranscriptAvailable(Event):
    """The transcript of a call or of a chat was stored (kefu.telephony.models.Transcript): what the
    service-language quality checks read (L1, L2, L3, L4, L5)."""

    transcript_id: int
    company_id: int
    call_id: int | None = None
    chat_id: int | None = None
