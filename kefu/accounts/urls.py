from django.urls import path

from kefu.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.KefuLoginView.as_view(), name="login"),
    path("logout/", views.KefuLogoutView.as_view(), name="logout"),
    path("password/", views.KefuPasswordChangeView.as_view(), name="password_change"),
    path("mfa/", views.mfa, name="mfa"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("audit/", views.audit_search, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
]
