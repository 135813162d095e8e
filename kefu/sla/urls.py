from django.urls import path

from kefu.sla import views

app_name = "sla"
urlpatterns = [
    path("", views.commitment_sets, name="sets"),
    path("sets/<int:pk>/", views.commitment_set_detail, name="set_detail"),
    path(
        "sets/<int:pk>/commitments/<int:commitment_pk>/edit/", views.commitment_edit, name="commitment_edit"
    ),
    path("sets/<int:pk>/<str:action>/", views.set_action, name="set_action"),
    path("queues/<str:which>/", views.queue, name="queue"),
    path("board/", views.board, name="board"),
    path("calendar/", views.calendar_year, name="calendar"),
    path("calendar/overrides/", views.overrides, name="overrides"),
    path("calendar/notice/", views.notice, name="notice"),
    path("calendar/overrides/<int:pk>/edit/", views.override_edit, name="override_edit"),
    path("calendar/overrides/<int:pk>/delete/", views.override_delete, name="override_delete"),
]
