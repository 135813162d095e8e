from django.urls import path

from kefu.outages import views

app_name = "outages"

urlpatterns = [
    path("", views.outage_list, name="list"),
    path("new/", views.outage_new, name="new"),
    path("network/", views.network_page, name="network"),
    path("indicators/", views.indicators, name="indicators"),
    path("settings/", views.settings_page, name="settings"),
    path("public/<slug:code>/", views.public_page, name="public"),
    path("<int:pk>/", views.outage_detail, name="detail"),
    path("<int:pk>/do/<slug:action>/", views.outage_action, name="action"),
    path("<int:pk>/call/", views.link_call, name="link_call"),
    path("<int:pk>/notice.pdf", views.notice_pdf, name="notice_pdf"),
    path("<int:pk>/report.pdf", views.report_pdf, name="report_pdf"),
]
