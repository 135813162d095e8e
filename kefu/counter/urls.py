from django.urls import path

from kefu.counter import views

app_name = "counter"
urlpatterns = [
    path("", views.home, name="home"),
    path("h/<int:hall_id>/greeter/", views.greeter, name="greeter"),
    path("h/<int:hall_id>/display/", views.display, name="display"),
    path("h/<int:hall_id>/display/board/", views.display_board, name="display_board"),
    path("w/<int:window_id>/", views.window, name="window"),
    path("w/<int:window_id>/<str:action>/", views.window_action, name="window_action"),
    path("t/<str:token>/", views.ticket_public, name="ticket_public"),
    path("cash/", views.cash, name="cash"),
    path("payments/<int:pk>/", views.payment, name="payment"),
    path("payments/<int:pk>/receipt.pdf", views.receipt, name="receipt"),
    path("refunds/", views.refunds, name="refunds"),
    path("refunds/<int:pk>/<str:action>/", views.refund_action, name="refund_action"),
    path("balance/", views.balance, name="balance"),
    path("balance/<int:pk>/receive/", views.balance_receive, name="balance_receive"),
    path("prices/", views.prices, name="prices"),
    path("report/", views.report, name="report"),
]
