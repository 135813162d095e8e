"""Customer endpoints (P2, C15): caller lookup and the customer card."""
from ninja import Router

router = Router(tags=["customers"])
