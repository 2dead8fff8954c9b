"""Sales records, one module per part of the sales process."""

from kehu.sales.models.contracts import ApprovalStep, Contract, ContractApproval, ContractAttachment
from kehu.sales.models.leads import (
    Lead,
    LeadActivity,
    LeadAssignmentRule,
    LeadCaptureForm,
    LeadCaptureSubmission,
    Territory,
)
from kehu.sales.models.opportunities import (
    CURRENCIES,
    REQUIRABLE_FIELDS,
    BilingualName,
    ExchangeRate,
    Opportunity,
    OpportunityContact,
    Pipeline,
    Stage,
    StageChange,
)
from kehu.sales.models.orders import Order, OrderLine
from kehu.sales.models.payments import Invoice, PaymentInstalment, Receipt, ReceiptAllocation
from kehu.sales.models.products import (
    OpportunityLine,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
)
from kehu.sales.models.quotes import Quote, QuoteLine
from kehu.sales.models.rollups import CashRollup, OpportunityRollup
from kehu.sales.models.shops import BuyerIdentity, BuyerLinkSuggestion, BuyerStats, Shop
from kehu.sales.models.targets import (
    CommissionRule,
    CommissionStatement,
    CommissionTier,
    Expense,
    Quota,
)

__all__ = [
    "CURRENCIES",
    "REQUIRABLE_FIELDS",
    "ApprovalStep",
    "BilingualName",
    "BuyerIdentity",
    "BuyerLinkSuggestion",
    "BuyerStats",
    "CashRollup",
    "CommissionRule",
    "CommissionStatement",
    "CommissionTier",
    "Contract",
    "ContractApproval",
    "ContractAttachment",
    "ExchangeRate",
    "Expense",
    "Invoice",
    "Lead",
    "LeadActivity",
    "LeadAssignmentRule",
    "LeadCaptureForm",
    "LeadCaptureSubmission",
    "Opportunity",
    "OpportunityContact",
    "OpportunityLine",
    "OpportunityRollup",
    "Order",
    "OrderLine",
    "PaymentInstalment",
    "Pipeline",
    "PriceList",
    "PriceListItem",
    "Product",
    "ProductCategory",
    "Quota",
    "Quote",
    "QuoteLine",
    "Receipt",
    "ReceiptAllocation",
    "Shop",
    "Stage",
    "StageChange",
    "Territory",
]
