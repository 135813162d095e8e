"""kefu (客服): customer service to a published standard, for city gas utilities."""
