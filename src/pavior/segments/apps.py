from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "pavior.segments"
    label = "segments"

    def ready(self) -> None:
        from pavior.people import hooks
        from pavior.segments.actions import (
            forget_attribute_index,
            note_attribute_use,
            segments_naming_attribute,
        )

        hooks.attribute_used.subscribe(note_attribute_use)
        hooks.attribute_deleted.subscribe(forget_attribute_index)
        if segments_naming_attribute not in hooks.attribute_in_use_checks:
            hooks.attribute_in_use_checks.append(segments_naming_attribute)
