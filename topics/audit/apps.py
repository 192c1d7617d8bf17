from django.apps import AppConfig


class AsyncAuditConfig(AppConfig):
    """The audit as an app of its own: add "topics.audit" to INSTALLED_APPS and
    run `manage.py async_audit`. It needs no setting, model or view of the demo."""

    name = "topics.audit"
    label = "async_audit"
    verbose_name = "Async audit"
