from django.urls import path

from kefu.followups import views

app_name = "followups"
urlpatterns = [
    path("", views.index, name="index"),
    path("complaints/", views.complaint_list, name="complaints"),
    path("complaints/<int:complaint_id>/", views.complaint_detail, name="complaint"),
    path("complaints/<int:complaint_id>/do/<str:action>/", views.complaint_act, name="complaint_act"),
    path("staff/<int:user_id>/complaints/", views.staff_complaints, name="staff_complaints"),
    path("visits/", views.visit_queue, name="visits"),
    path("visits/<int:visit_id>/", views.visit_detail, name="visit"),
    path("visits/<int:visit_id>/do/<str:action>/", views.visit_act, name="visit_act"),
    path("kb/", views.kb, name="kb"),
    path("kb/search/", views.kb_search, name="kb_search"),
    path("kb/propose/", views.kb_propose, name="kb_propose"),
    path("kb/<int:article_id>/", views.kb_article, name="kb_article"),
    path("kb/versions/<int:version_id>/<str:decision>/", views.kb_decide, name="kb_decide"),
    path("consultations/refer/", views.consultation_refer, name="consultation_refer"),
    path("surveys/", views.surveys, name="surveys"),
    path("surveys/<int:campaign_id>/", views.survey_detail, name="survey"),
    path("surveys/<int:campaign_id>/export.xlsx", views.survey_export, name="survey_export"),
    path("surveys/answer/<int:response_id>/", views.survey_phone, name="survey_phone"),
    path("s/<str:token>/", views.survey_link, name="survey_link"),
    path("indicators/", views.indicators, name="indicators"),
]
