from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "kehu.users"
    label = "users"
    verbose_name = _("Staff and organisation")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from kehu.users import scoping

        post_save.connect(scoping.records_changed, dispatch_uid="scope_records_changed_save")
        post_delete.connect(scoping.records_changed, dispatch_uid="scope_records_changed_delete")
