from cooperative.models import Cooperative


def cooperative(request):
    # One small row, read once per page; cheap enough not to cache yet.
    return {"cooperative": Cooperative.objects.current()}
