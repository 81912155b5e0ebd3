"""Admin pages."""

from django.urls import path

from pavior.web.views import attributes, auth, install, profile, reports, segments, users

urlpatterns = [
    path("", users.home, name="home"),
    path("login/", auth.sign_in, name="login"),
    path("logout/", auth.sign_out, name="logout"),
    path("workspace/switch/", auth.switch_workspace, name="switch_workspace"),
    path("columns/", users.save_columns, name="save_columns"),
    path("columns/add-attribute/", users.add_attribute, name="add_attribute"),
    path("users/export.csv", users.export_csv, name="export_csv"),
    path("users/<int:pk>/", profile.profile, name="profile"),
    path("users/<int:pk>/attributes/<str:name>/", profile.edit_attribute, name="edit_attribute"),
    path("users/<int:pk>/erase/", profile.erase, name="erase_user"),
    path("attributes/", attributes.attributes_page, name="attributes"),
    path("attributes/preview/", users.preview_name, name="preview_name"),
    path("attributes/<str:name>/", attributes.change_attribute, name="change_attribute"),
    path("attributes/<str:name>/delete/", attributes.delete_attribute, name="delete_attribute"),
    path("segments/", segments.segments_page, name="segments"),
    path("segments/save/", segments.save_segment, name="save_segment"),
    path("segments/<int:segment_id>/rename/", segments.rename_segment, name="rename_segment"),
    path("segments/<int:segment_id>/delete/", segments.delete_segment, name="delete_segment"),
    path("reports/", reports.reports_page, name="reports"),
    path("reports/export.csv", reports.export_report, name="export_report"),
    path("install/", install.install_page, name="install"),
    path("install/secrets/", install.new_secret, name="new_secret"),
    path("install/secrets/<int:secret_id>/revoke/", install.revoke_secret, name="revoke_secret"),
]
