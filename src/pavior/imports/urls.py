"""Import wizard pages (under /imports/)."""

urlpatterns: list = []
