from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # answers every method with 404; nothing to protect, and a 403 CSRF page would hide the answer
def not_found(request, *args, **kwargs):
    """Any /api/ path no endpoint matches: a 404 in the API's error shape, not an HTML page."""
    message = f"No API endpoint at {request.path}."
    return JsonResponse({"error": {"status": 404, "code": "not_found", "message": message, "fields": {}}}, status=404)
