"""Admin pages."""

from django.urls import include, path, re_path

from pavior.web.views import (
    api_keys,
    attributes,
    auth,
    email_webhooks,
    imports,
    install,
    messages,
    profile,
    reports,
    segments,
    unsubscribe,
    users,
)

# The import wizard (namespace "imports": {% url 'imports:map' pk %}).
import_patterns = [
    path("", imports.index, name="index"),
    path("<int:pk>/map/", imports.map_columns, name="map"),
    path("<int:pk>/validate/", imports.validate, name="validate"),
    path("<int:pk>/start/", imports.start, name="start"),
    path("<int:pk>/", imports.detail, name="detail"),
    path("<int:pk>/status.json", imports.status, name="status"),
    path("<int:pk>/cancel/", imports.cancel, name="cancel"),
    path("<int:pk>/rejected.csv", imports.rejected, name="rejected"),
]

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
    path("imports/", include((import_patterns, "imports"))),
    path("segments/", segments.segments_page, name="segments"),
    path("segments/save/", segments.save_segment, name="save_segment"),
    path("segments/<int:segment_id>/rename/", segments.rename_segment, name="rename_segment"),
    path("segments/<int:segment_id>/delete/", segments.delete_segment, name="delete_segment"),
    path("reports/", reports.reports_page, name="reports"),
    path("reports/export.csv", reports.export_report, name="export_report"),
    path("messages/", messages.messages_page, name="messages"),
    path("messages/new/<str:channel>/", messages.new_message, name="new_message"),
    path("messages/preview/", messages.preview, name="message_preview"),
    path("messages/audience/", messages.audience_count, name="message_audience"),
    path("messages/<int:pk>/", messages.message_page, name="message"),
    path("messages/<int:pk>/audience-size/", messages.audience_size, name="audience_size"),
    path("messages/<int:pk>/edit/", messages.edit_message, name="edit_message"),
    path("messages/<int:pk>/status/", messages.change_status, name="message_status"),
    path("install/", install.install_page, name="install"),
    path("install/secrets/", install.new_secret, name="new_secret"),
    path("install/secrets/<int:secret_id>/revoke/", install.revoke_secret, name="revoke_secret"),
    path("settings/api-keys/", api_keys.api_keys_page, name="api_keys"),
    path("settings/api-keys/<int:key_id>/revoke/", api_keys.revoke_key, name="revoke_api_key"),
    # Public email links (no login): the address every email's List-Unsubscribe names.
    re_path(
        r"^email/unsubscribe/(?P<token>[^/]*)/resubscribe/?$",
        unsubscribe.resubscribe,
        name="email_resubscribe",
    ),
    re_path(r"^email/unsubscribe/(?P<token>[^/]*)/?$", unsubscribe.unsubscribe, name="unsubscribe"),
    path(
        "email/webhooks/<str:esp>/tracking/", email_webhooks.tracking_webhook, name="email_webhook"
    ),
]
