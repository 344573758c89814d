"""The service, plus a parse-only endpoint for ``benchmarks/service.py`` (not part of the product).

``POST /bench/parse-only`` does what order-sign does before any evaluation — read the body under
the limits, parse the JSON, validate the CDS Hooks request and its draft orders — and answers
``{"cards": []}``. Beside the full order-sign path in the same run it shows what the HTTP
stack and parsing cost on their own.
"""

from __future__ import annotations

import orjson
from fastapi import Request
from fastapi.responses import Response

from cds.app import create_app
from cds.discovery import HOOK
from cds.hooks import parse_order_sign
from cds.limits import RequestLimits, parse_json_body
from cds.order_sign import validate_order

app = create_app()
LIMITS = RequestLimits()


async def parse_only(request: Request) -> Response:
    parsed = parse_order_sign(parse_json_body(await request.body(), LIMITS), HOOK)
    for order in parsed.orders:
        if order.get("resourceType") == "ServiceRequest":
            validate_order(order)
    return Response(orjson.dumps({"cards": []}), media_type="application/json")


app.add_route("/bench/parse-only", parse_only, methods=["POST"])  # routed as order-sign is
