from backend.core.http.errors import ProblemError


class WebhookNotFound(ProblemError):
    status = 404
    error_code = "WEBHOOK_NOT_FOUND"
    title = "Webhook not found"
    default_detail = "No webhook with this id exists in this project."


class DeliveryNotFound(ProblemError):
    status = 404
    error_code = "WEBHOOK_DELIVERY_NOT_FOUND"
    title = "Delivery not found"
    default_detail = "No delivery with this id exists for this webhook."


class TargetRefused(ProblemError):
    status = 422
    error_code = "WEBHOOK_TARGET_REFUSED"
    title = "Webhook target refused"
    default_detail = (
        "The target URL must use https (http outside production) and must not resolve to a loopback, "
        "private, link-local or metadata address."
    )
