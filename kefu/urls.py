"""URL map: the web UI, the admin for master data, and the API under /api/v1/."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from kefu import views
from kefu.api import api

admin.site.site_header = _("kefu 客服 · 系统管理")
admin.site.site_title = _("kefu 客服")

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("kefu.accounts.urls")),
    path("customers/", include("kefu.customers.urls")),
    path("tickets/", include("kefu.tickets.urls")),
    path("sla/", include("kefu.sla.urls")),
    path("field/", include("kefu.field.urls")),
    path("inspections/", include("kefu.inspections.urls")),
    path("notifications/", include("kefu.notify.urls")),
    path("kpi/", include("kefu.kpi.urls")),
    path("telephony/", include("kefu.telephony.urls")),
    path("followups/", include("kefu.followups.urls")),
    path("outages/", include("kefu.outages.urls")),
    # Erlang C staffing on the roster page: telephony data sized by workforce's maths (kefu/views.py)
    path("workforce/rosters/<int:roster_id>/staffing/", views.roster_staffing, name="roster_staffing"),
    path(
        "workforce/rosters/propose-from-forecast/",
        views.roster_propose_from_forecast,
        name="roster_propose_from_forecast",
    ),
    path("workforce/", include("kefu.workforce.urls")),
    path("quality/", include("kefu.quality.urls")),
    path("counter/", include("kefu.counter.urls")),
    path("portal/", include("kefu.portal.urls")),
    path("exports/", include("kefu.exports.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
]

handler400 = "kefu.core.middleware.error_400"
handler404 = "kefu.core.middleware.error_404"
handler500 = "kefu.core.middleware.error_500"
