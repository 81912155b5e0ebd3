from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "pavior.messaging"
    label = "messaging"

    def ready(self) -> None:
        from pavior.messaging.queries import live_message_check, messages_naming_attribute
        from pavior.people.hooks import attribute_in_use_checks
        from pavior.segments.hooks import segment_in_use_checks

        if live_message_check not in segment_in_use_checks:
            segment_in_use_checks.append(live_message_check)
        if messages_naming_attribute not in attribute_in_use_checks:
            attribute_in_use_checks.append(messages_naming_attribute)
