"""Customer pages (P2, C15). Filled in by the lookup and import work."""
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def search(request):
    return HttpResponse("")


@login_required
def import_page(request):
    return HttpResponse("")
