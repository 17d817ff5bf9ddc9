"""What ends a sync request, with the status and body the API answers."""

from __future__ import annotations

from typing import Any


class SyncError(Exception):
    """An answer that ends the request: `status` and a JSON body."""

    def __init__(self, status: int, error: str, **extra: Any):
        super().__init__(error)
        self.status = status
        self.body = {"error": error, **extra}
