"""Admin pages."""

urlpatterns: list = []
