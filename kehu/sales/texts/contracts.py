"""Notification and customer-timeline texts for contracts (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

MESSAGES: dict = {
    "contract_assigned": _("%(by)s created the contract %(number)s “%(title)s” for you."),
    "contract_approval_requested": _(
        "%(by)s asks you to approve the contract %(number)s “%(title)s” (%(step)s)."
    ),
    "contract_approved": _("The contract %(number)s “%(title)s” was approved and is active."),
    "contract_rejected": _("%(by)s rejected the contract %(number)s “%(title)s”: %(comment)s"),
    "contract_withdrawn": _("%(by)s withdrew the contract %(number)s “%(title)s” from approval."),
}

EVENT_TEXTS: dict = {
    "contract_created": _("Contract %(number)s “%(title)s” drafted"),
    "contract_deleted": _("Contract %(number)s “%(title)s” moved to the recycle bin"),
    "contract_restored": _("Contract %(number)s “%(title)s” restored from the recycle bin"),
    "contract_attachment_added": _("File “%(file)s” attached to contract %(number)s"),
    "contract_attachment_removed": _("File “%(file)s” removed from contract %(number)s"),
    "contract_submitted": _("Contract %(number)s submitted for approval (round %(round)s): %(chain)s"),
    "contract_no_approval_needed": _(
        "Contract %(number)s “%(title)s” is active: no approval was needed for its amount"
    ),
    "contract_step_approved": _("Contract %(number)s: “%(step)s” approved by %(by)s. %(comment)s"),
    "contract_approved": _("Contract %(number)s “%(title)s” approved by every step and now active"),
    "contract_rejected": _("Contract %(number)s: “%(step)s” rejected by %(by)s: %(comment)s"),
    "contract_withdrawn": _("Contract %(number)s withdrawn from approval by %(by)s"),
    "contract_completed": _("Contract %(number)s “%(title)s” completed"),
    "contract_terminated": _("Contract %(number)s “%(title)s” terminated: %(reason)s"),
    "contract_handed_over": _("Contract %(number)s handed over from %(from)s to %(to)s"),
}

# Why a contract's audited row changed, as the history tab shows it.
HISTORY_REASONS: dict = {
    "submitted": _("submitted for approval"),
    "activated without approval": _("active: no approval needed"),
    "step approved": _("an approval step was approved"),
    "approved": _("approved"),
    "rejected": _("rejected"),
    "withdrawn": _("withdrawn from approval"),
    "completed": _("completed"),
    "terminated": _("terminated"),
}
