"""Field pages: /field/board/ (调度台), /field/exceptions/, /field/jobs/<id>/, /field/phone/ (the
technician's PWA, with /field/sw.js and /field/manifest.webmanifest), /field/appointments/,
/field/duty/, /field/fees/."""

from django.urls import path

from kefu.field import views

app_name = "field"
urlpatterns = [
    path("board/", views.board, name="board"),
    path("board/partial/", views.board_partial, name="board_partial"),
    path("exceptions/", views.exceptions, name="exceptions"),
    path("jobs/new/", views.job_new, name="job_new"),
    path("jobs/<int:job_id>/", views.job_page, name="job"),
    path("jobs/<int:job_id>/dispatch/", views.dispatch, name="dispatch"),
    path("jobs/<int:job_id>/approve/", views.approve, name="approve"),
    path("jobs/<int:job_id>/manual-arrival/", views.job_manual_arrival, name="manual_arrival"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel, name="cancel"),
    path("phone/", views.phone, name="phone"),
    path("sw.js", views.service_worker, name="sw"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("appointments/", views.appointments, name="appointments"),
    path("duty/", views.duty, name="duty"),
    path("fees/", views.fees, name="fees"),
]
