from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "pavior.messaging"
    label = "messaging"

    def ready(self) -> None:
        from pavior.messaging.queries import live_message_check
        from pavior.segments.hooks import segment_in_use_checks

        if live_message_check not in segment_in_use_checks:
            segment_in_use_checks.append(live_message_check)

        from pavior.messaging.actions import went_live_hooks
        from pavior.messaging.outbox import went_live

        if went_live not in went_live_hooks:
            went_live_hooks.append(went_live)
