"""What goes wrong when the escrow is asked, as the service's routes raise it; backend/errors.py
answers each with its HTTP status, in one place."""

from __future__ import annotations


class ChainUnavailable(Exception):
    """The RPC cannot be reached, did not answer within `rpc_timeout_seconds`, or answered with
    an error of its own (HTTP 503)."""


class RangeRefused(ChainUnavailable):
    """The node answered eth_getLogs with an error: most nodes cap the blocks or the results
    of one query (the indexer asks for a smaller range)."""


class UnknownDeal(LookupError):
    """The escrow knows no deal of this id (HTTP 404)."""

    def __init__(self, deal_id: int):
        super().__init__(f"the escrow knows no deal {deal_id}")
        self.deal_id = deal_id


class UnknownEscrow(LookupError):
    """The service serves no escrow at this address (HTTP 404)."""

    def __init__(self, address: str):
        super().__init__(
            f"this service serves no escrow at {address}: GET /escrows lists those it serves"
        )
        self.address = address
