"""``POST /api/loyalty/v1/events/``: signed events from shops on other stacks and from partners."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..exceptions import LoyaltyError
from ..services.events import receive_event
from ..webhooks import SIGNATURE_HEADER, SOURCE_HEADER

REPLAY_HEADER = "Idempotent-Replayed"


@csrf_exempt  # Authenticated by the HMAC signature of the body, not by a session.
@require_POST
def receive_events(request: HttpRequest) -> HttpResponse:
    """Process one signed event; a retry of the same event id gets the first answer again."""
    try:
        answer = receive_event(
            request.headers.get(SOURCE_HEADER, ""), request.body, request.headers.get(SIGNATURE_HEADER, "")
        )
    except LoyaltyError as error:
        return JsonResponse({"code": error.code, "detail": str(error.detail)}, status=error.status_code)
    response = HttpResponse(answer.body, content_type="application/json", status=answer.status)
    if answer.replayed:
        response[REPLAY_HEADER] = "true"
    return response
