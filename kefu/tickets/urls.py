"""Work-order pages: /tickets/ (list), /tickets/desk/ (agent desk, ?phone= from telephony),
/tickets/mine/ (technicians), /tickets/<id>/ (work-order page), /tickets/<id>/attachments/<id>/ (an
attachment, for those who may see the work order; audited — the only way to a stored file)."""

from django.urls import path

from kefu.tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("export.xlsx", views.ticket_export, name="export"),
    path("desk/", views.desk, name="desk"),
    path("desk/new/", views.desk_create, name="desk_create"),
    path("mine/", views.mine, name="mine"),
    path("hand-overs/", views.hand_overs, name="hand_overs"),
    path("hand-overs/<int:hand_over_id>/<str:decision>/", views.hand_over_decide, name="hand_over_decide"),
    path("<int:ticket_id>/", views.detail, name="detail"),
    path("customer/<int:customer_id>/history/", views.customer_history, name="customer_history"),
    path("<int:ticket_id>/called-again/", views.called_again, name="called_again"),
    path("<int:ticket_id>/do/<str:action>/", views.act, name="act"),
    path("<int:ticket_id>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
