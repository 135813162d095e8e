"""Import page (filled in by the import work)."""
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def import_page(request):
    return HttpResponse("")
