"""``GET /metrics``: the app's Prometheus metrics (``api.metrics``), served when
``metrics_enabled``; whether it is reachable from outside is the deployer's choice."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["health"], include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """The metrics in the Prometheus text format, or OpenMetrics if the scraper asks (a plain
    ``def``: a scrape reads the database and the object store, with a deadline, off the
    event loop)."""
    body, media_type = request.app.state.metrics.exposition(request.headers.get("accept", ""))
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})
