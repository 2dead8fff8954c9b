"""Sales records, one module per part of the sales process."""

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
from kehu.sales.models.products import (
    OpportunityLine,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
)

__all__ = [
    "CURRENCIES",
    "REQUIRABLE_FIELDS",
    "BilingualName",
    "ExchangeRate",
    "Lead",
    "LeadActivity",
    "LeadAssignmentRule",
    "LeadCaptureForm",
    "LeadCaptureSubmission",
    "Opportunity",
    "OpportunityContact",
    "OpportunityLine",
    "Pipeline",
    "PriceList",
    "PriceListItem",
    "Product",
    "ProductCategory",
    "Stage",
    "StageChange",
    "Territory",
]
