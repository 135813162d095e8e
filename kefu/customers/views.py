"""Customer pages (P2, C15). Filled in by the lookup work."""
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def search(request):
    return HttpResponse("")
