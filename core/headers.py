"""Response headers that hold for every page: what the browser may load and
use, and that pages behind a login are never stored by a browser or proxy.

A small middleware rather than django-csp: the policy is one fixed string
(no inline script anywhere, so no nonces), and Django 6 brings its own CSP
support, which replaces this when the project moves to the next LTS."""

from django.utils.cache import patch_vary_headers

# No inline script and no eval: scripts only from our static files. Inline
# style attributes remain allowed (templates set widths and print layout);
# they cannot run code. Images may be data: URIs (the admin's icons).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The portal needs none of these powers; a file input still opens the camera.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Member data, tickets, IBANs: never in a shared computer's cache
            # or the back/forward history after logout. Downloads set their
            # own (also private); what a view set stays.
            if "Cache-Control" not in response.headers:
                response.headers["Cache-Control"] = "private, no-store"
            patch_vary_headers(response, ["Cookie"])
        return response
