from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "pavior.messaging"
    label = "messaging"

    def ready(self) -> None:
        from anymail.signals import tracking

        from pavior.messaging import targeting
        from pavior.messaging.queries import live_message_check, messages_naming_attribute
        from pavior.messaging.suppressions import on_tracking
        from pavior.people.hooks import attribute_in_use_checks, user_changed
        from pavior.segments.hooks import segment_changed, segment_in_use_checks

        # Candidate caches follow users' attributes and segment edits.
        user_changed.subscribe(targeting.user_changed)
        segment_changed.subscribe(targeting.segment_changed)

        # Email services' bounces and complaints (through anymail's webhooks).
        tracking.connect(on_tracking, dispatch_uid="pavior.messaging.suppressions")
        if live_message_check not in segment_in_use_checks:
            segment_in_use_checks.append(live_message_check)
        if messages_naming_attribute not in attribute_in_use_checks:
            attribute_in_use_checks.append(messages_naming_attribute)

        from pavior.messaging.actions import went_live_hooks
        from pavior.messaging.outbox import went_live

        if went_live not in went_live_hooks:
            went_live_hooks.append(went_live)
