from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kehu.support import inbound_mail


class Command(BaseCommand):
    help = gettext_lazy(
        "Fetch the service desk's new e-mail once (the worker does it every minute): new mail opens tickets, "
        "answers join the ticket they answer."
    )
    requires_system_checks = []

    def handle(self, *args, **options):
        if not inbound_mail.configured():
            raise CommandError(_("No mailbox is set: set KEHU_SUPPORT_IMAP_URL or KEHU_SUPPORT_MAILDIR."))
        try:
            count = inbound_mail.mail_fetch()
        except inbound_mail.MailSourceError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            ngettext("%(count)s message processed.", "%(count)s messages processed.", count)
            % {"count": count}
        )
