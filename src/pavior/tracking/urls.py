"""Public website endpoints: the snippet script and the tracking intake."""

urlpatterns: list = []
