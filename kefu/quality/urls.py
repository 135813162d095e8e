from django.urls import path

from kefu.quality import views

app_name = "quality"
urlpatterns = [
    path("", views.transcripts, name="transcripts"),
    path("t/<int:pk>/", views.transcript_detail, name="transcript"),
    path("t/<int:pk>/<str:action>/", views.transcript_action, name="transcript_action"),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<str:code>/", views.rule_edit, name="rule"),
    path("queue/", views.queue, name="queue"),
    path("evaluations/", views.evaluations, name="evaluations"),
    path("evaluations/<int:pk>/", views.evaluation, name="evaluation"),
    path("appeals/", views.appeals, name="appeals"),
    path("report/", views.report, name="report"),
]
