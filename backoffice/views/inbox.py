from django.views.decorators.http import require_GET

from core.decorators import staff_required


@staff_required
@require_GET
def inbox(request):
    raise NotImplementedError  # being built
