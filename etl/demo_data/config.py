"""Scales, defect rates and the fixed shape of the demo world (regions, products, teams)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

HISTORY_DAYS = 3 * 365 + 1  # day 0 = as_of - 3 years, day HISTORY_DAYS - 1 = as_of


@dataclass(frozen=True)
class Scale:
    """Volume knobs for one named scale."""

    name: str
    accounts: int
    agents: int
    campaigns: int
    batch_accounts: int
    leads_per_weekday: float
    web_sessions_per_day: float
    journeys: int
    audience_fraction: float  # share of eligible contacts a campaign sends to
    support_rate: float  # multiplier on ticket, chat and meeting volume
    usage_daily_days: int | None  # trailing days with daily usage rows (Mondays only before); None = all days


SCALES: dict[str, Scale] = {
    "small": Scale("small", accounts=500, agents=20, campaigns=30, batch_accounts=250,
                   leads_per_weekday=10, web_sessions_per_day=40, journeys=4_000,
                   audience_fraction=1.0, support_rate=1.0, usage_daily_days=None),
    "medium": Scale("medium", accounts=5_000, agents=120, campaigns=40, batch_accounts=500,
                    leads_per_weekday=60, web_sessions_per_day=300, journeys=30_000,
                    audience_fraction=0.8, support_rate=1.0, usage_daily_days=None),
    "large": Scale("large", accounts=100_000, agents=600, campaigns=60, batch_accounts=1_000,
                   leads_per_weekday=200, web_sessions_per_day=1_000, journeys=150_000,
                   audience_fraction=0.05, support_rate=0.2, usage_daily_days=28),
}


@dataclass(frozen=True)
class DefectRates:
    """How often each kind of data-quality defect is planted (rates are fractions of rows)."""

    duplicate_contacts: float = 0.01
    cross_region_accounts: float = 0.01
    missing_contact_email: float = 0.015
    missing_contact_phone: float = 0.02
    missing_account_industry: float = 0.01
    missing_lead_contact: float = 0.02  # lead email or phone blank
    blank_csat: float = 0.01  # csat blanked on tickets that were rated
    stale_versions: float = 0.01  # accounts, opportunities, tickets, invoices, surveys
    malformed_rows_per_file: int = 4  # accounts, contacts, tickets, invoices, sends

    @classmethod
    def none(cls) -> DefectRates:
        """All defect rates set to zero."""
        return cls(**{f.name: 0 for f in fields(cls)})

    def as_dict(self) -> dict[str, float]:
        """The rates as a plain dict."""
        return asdict(self)


@dataclass(frozen=True)
class Territory:
    """A sales territory inside a region, tied to one country."""

    name: str
    country: str
    weight: float


@dataclass(frozen=True)
class Region:
    """A sales region with its currency and growth dynamics."""

    name: str
    code: str
    currency: str
    territories: tuple[Territory, ...]
    base_share: float  # share of the accounts that existed at the start of history
    new_per_year: float  # new accounts per year as a fraction of the region's starting base
    growth: float  # new-account arrival rate at the end relative to the start
    churn_per_year: float
    expansion: float = 1.0  # appetite for expansions relative to the average region
    contraction_per_year: float = 0.1  # downgrades (one subscription cancelled) per customer-year
    new_account_mrr: float = 1.0  # size of new customers relative to the installed base


def _t(name: str, country: str, weight: float) -> Territory:
    return Territory(name, country, weight)


REGIONS: tuple[Region, ...] = (
    Region("South Africa", "ZA", "ZAR",
           (_t("ZA-Gauteng", "ZA", .5), _t("ZA-Western Cape", "ZA", .3), _t("ZA-KwaZulu-Natal", "ZA", .2)),
           base_share=.24, new_per_year=.14, growth=1.0, churn_per_year=.12),
    Region("East Africa", "EA", "KES",
           (_t("KE-Nairobi", "KE", .45), _t("KE-Mombasa", "KE", .15), _t("UG-Kampala", "UG", .2),
            _t("TZ-Dar es Salaam", "TZ", .2)),
           base_share=.10, new_per_year=.32, growth=1.8, churn_per_year=.09, expansion=1.6,
           contraction_per_year=.05),
    Region("West Africa", "WA", "NGN",
           (_t("NG-Lagos", "NG", .5), _t("NG-Abuja", "NG", .2), _t("GH-Accra", "GH", .3)),
           base_share=.10, new_per_year=.30, growth=1.7, churn_per_year=.10, expansion=1.5,
           contraction_per_year=.05),
    Region("Europe", "EU", "EUR",
           (_t("EU-DACH", "DE", .4), _t("EU-France", "FR", .25), _t("EU-Benelux", "NL", .2),
            _t("EU-Ireland", "IE", .15)),
           base_share=.24, new_per_year=.06, growth=.5, churn_per_year=.155, expansion=.3,
           contraction_per_year=.35, new_account_mrr=.7),
    Region("United Kingdom", "UK", "GBP",
           (_t("UK-London", "GB", .5), _t("UK-Midlands", "GB", .25), _t("UK-North", "GB", .25)),
           base_share=.14, new_per_year=.12, growth=1.0, churn_per_year=.12, expansion=.9),
    Region("North America", "NA", "USD",
           (_t("NA-East", "US", .45), _t("NA-West", "US", .35), _t("NA-Canada", "CA", .2)),
           base_share=.18, new_per_year=.13, growth=1.1, churn_per_year=.11, expansion=1.1),
)

TERRITORIES: tuple[tuple[int, Territory], ...] = tuple(
    (r, t) for r, region in enumerate(REGIONS) for t in region.territories)

COUNTRIES: tuple[str, ...] = ("ZA", "KE", "UG", "TZ", "NG", "GH", "DE", "FR", "NL", "IE", "GB", "US", "CA")
COUNTRY_INDEX = {c: i for i, c in enumerate(COUNTRIES)}
REGION_COUNTRIES: tuple[tuple[str, ...], ...] = tuple(
    tuple(dict.fromkeys(t.country for t in r.territories)) for r in REGIONS)

CURRENCIES: tuple[str, ...] = ("ZAR", "KES", "NGN", "EUR", "GBP", "USD")
# USD per unit at the start of history, and daily log-volatility of the random walk
FX_LEVELS: dict[str, tuple[float, float]] = {
    "ZAR": (0.055, 0.007), "KES": (0.0077, 0.004), "NGN": (0.00065, 0.008),
    "EUR": (1.08, 0.004), "GBP": (1.27, 0.004), "USD": (1.0, 0.0),
}
REGION_CURRENCY_INDEX = tuple(CURRENCIES.index(r.currency) for r in REGIONS)

ACCOUNT_TYPES: tuple[str, ...] = ("SMB", "Enterprise", "Wholesale")
ACCOUNT_TYPE_WEIGHTS = (0.68, 0.23, 0.09)
# churn hazard multiplier per account type (SMB churns most)
CHURN_TYPE_FACTOR = (1.1, 0.8, 0.85)

INDUSTRIES: tuple[str, ...] = (
    "Telecommunications", "Financial Services", "Healthcare", "Retail", "Manufacturing", "Logistics",
    "Public Sector", "Media", "Energy", "Education", "Hospitality", "Agriculture")
INDUSTRY_WEIGHTS = (0.09, 0.13, 0.09, 0.13, 0.11, 0.1, 0.06, 0.06, 0.06, 0.06, 0.06, 0.05)


@dataclass(frozen=True)
class Product:
    """A catalogue item; recurring prices are per unit per month."""

    product_id: int
    name: str
    family: str
    list_price_usd: float
    is_recurring: bool


PRODUCTS: tuple[Product, ...] = (
    Product(1, "Business Fibre 100 Mbps", "Connectivity", 450.0, True),
    Product(2, "Business Fibre 1 Gbps", "Connectivity", 1900.0, True),
    Product(3, "Managed SD-WAN", "Connectivity", 1200.0, True),
    Product(4, "Wholesale IP Transit", "Connectivity", 6500.0, True),
    Product(5, "Cloud Compute", "Cloud", 800.0, True),
    Product(6, "Cloud Backup", "Cloud", 250.0, True),
    Product(7, "Managed Firewall", "Security", 600.0, True),
    Product(8, "Endpoint Security (per seat)", "Security", 9.0, True),
    Product(9, "Premium Support Plan", "Support", 350.0, True),
    Product(10, "Enterprise Support Plan", "Support", 2500.0, True),
    Product(11, "SIP Voice Trunk", "Voice", 300.0, True),
    Product(12, "Edge Router Hardware", "Hardware", 1400.0, False),
    Product(13, "On-site Installation", "Services", 900.0, False),
)
PRODUCT_INDEX = {p.product_id: i for i, p in enumerate(PRODUCTS)}
PER_SEAT_PRODUCT = 8
ONE_OFF_PRODUCTS = (12, 13)
# recurring products each account type buys from, with preference weights
PRODUCT_MENU: dict[int, tuple[tuple[int, float], ...]] = {
    0: ((1, .9), (6, .5), (8, .5), (9, .4), (11, .4), (5, .2), (7, .2)),
    1: ((2, .9), (3, .7), (5, .7), (7, .7), (10, .8), (6, .6), (8, .7), (11, .4)),
    2: ((4, 1.0), (2, .8), (10, .8), (3, .4), (5, .3)),
}
# median and log-sd of the target MRR in USD per account type
MRR_USD = ((700.0, 0.55), (12_000.0, 0.6), (25_000.0, 0.55))
EMPLOYEES = ((35.0, 0.9, 3, 400), (3_000.0, 0.9, 300, 60_000), (700.0, 0.8, 80, 12_000))

SUPPORT_TEAMS: tuple[str, ...] = ("Tier 1", "Tier 2", "Billing", "Technical", "Enterprise Desk", "Chat & WhatsApp")
SUPPORT_TEAM_WEIGHTS = (0.3, 0.15, 0.15, 0.15, 0.1, 0.15)

VENDOR_DOMAIN = "meridiantel.example"

# How prone each product is to support cases, relative to the average (by product_id): managed
# networking, voice and compute raise the most tickets per customer, support plans the fewest.
TICKET_PROPENSITY: dict[int, float] = {1: 1.0, 2: 0.8, 3: 2.2, 4: 1.2, 5: 1.6, 6: 0.6, 7: 1.3, 8: 0.5, 9: 0.3,
                                       10: 0.3, 11: 1.8, 12: 1.0, 13: 1.0}


@dataclass(frozen=True)
class Milestone:
    """A step of onboarding a new customer: who owns it, when it is planned and how late it runs."""

    name: str
    owner_team: str
    planned_day: int  # days after the contract starts
    typical_delay_days: float  # median delay when things go wrong
    africa_factor: float = 1.0  # field work takes longer where engineers travel further


MILESTONES: tuple[Milestone, ...] = (
    Milestone("kickoff", "Customer Success", 2, 0.5),
    Milestone("site_survey", "Field Engineering", 7, 3.0, 1.6),
    Milestone("installation", "Field Engineering", 16, 7.0, 2.0),
    Milestone("configuration", "Technical", 22, 2.5),
    Milestone("training", "Customer Success", 27, 1.5),
    Milestone("go_live", "Customer Success", 30, 1.0),
)
