"""Inspection pages: /inspections/ (programme and coverage), batches/ (with notice PDFs),
hazards/ (ledger and rectification notices), no-access/, import/, phone/ (the inspector's PWA)."""

from django.urls import path

from kefu.inspections import import_views, views

app_name = "inspections"
urlpatterns = [
    path("", views.programme, name="programme"),
    path("batches/", views.batches, name="batches"),
    path("batches/<int:batch_id>/notice.pdf", views.batch_notice, name="batch_notice"),
    path("hazards/", views.hazards, name="hazards"),
    path("hazards/<int:hazard_id>/notice.pdf", views.hazard_notice, name="hazard_notice"),
    path("no-access/", views.no_access, name="no_access"),
    path("import/", import_views.import_page, name="import"),
    path("phone/", views.phone, name="phone"),
    path("sw.js", views.service_worker, name="sw"),
]
