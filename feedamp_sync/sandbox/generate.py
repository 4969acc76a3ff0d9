"""Realistic generated orders and returns, deterministic for a seeded ``random.Random``.

The objects follow the Order/OrderInfo/OrderLine and Return schemas of docs/feedamp-api.md with
every documented field, the SECONDARY fields of the webhook SDK schema, and a few fields no
document lists (``sandbox_channel``, ``order_info.sandbox_loyalty_tier``,
``order_lines[].sandbox_warehouse_hint``, ``created_at``/``refreshed_at`` on returns), because
the real API adds fields without notice and a client must keep them, not choke on them.

Generation draws from the given RNG only, in a fixed order, and takes "now" as an argument, so
the same seed and the same clock give the same world.

Every generated customer carries a canary: :data:`CANARY` in their name, street address and
email, and a phone number in a range kept for fiction (:data:`CANARY_PHONES`), so a test finds
customer data in a log by these few strings wherever it ended up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Final

from feedamp_sync.sandbox.timestamps import render
from feedamp_sync.sandbox.vocab import ORDERED

JSON = dict[str, Any]

CANARY: Final = "Canarino"
"""In every generated customer's name, street address and email (in lower case there)."""
CANARY_PHONES: Final = ("+1-555-", "+44 20 7946 ")
"""How every generated phone number starts: the United States' and the United Kingdom's
numbers for fiction."""

_MINUTE_MS: Final = 60_000
_DAY_MS: Final = 24 * 60 * _MINUTE_MS


@dataclass(frozen=True)
class _Marketplace:
    integration_name: str
    marketplace_name: str
    currency: str
    country: str
    sales_channel: str
    locale: str
    commission_rate: float
    tax_by_marketplace: bool


_MARKETPLACES: Final = (
    _Marketplace("amazon", "amazon_us", "USD", "USA", "Amazon.com", "en_US", 0.15, True),
    _Marketplace("amazon", "amazon_uk", "GBP", "GBR", "Amazon.co.uk", "en_GB", 0.15, True),
    _Marketplace("walmart", "walmart_us", "USD", "USA", "Walmart.com", "en_US", 0.12, True),
    _Marketplace("ebay", "ebay_us", "USD", "USA", "eBay", "en_US", 0.13, False),
    _Marketplace("target", "target_plus", "USD", "USA", "Target Plus", "en_US", 0.10, False),
)

_PRODUCTS: Final = (
    ("1234-12353", "Beats Pill Speakers", 199.99),
    ("HDPH-2201-BLK", "Wireless Over-Ear Headphones, Black", 89.5),
    ("CBL-USB-C-2M", "USB-C Charging Cable 2 m", 12.99),
    ("MUG-CER-350", "Ceramic Coffee Mug 350 ml", 14.25),
    ("TWL-BATH-GRY", "Cotton Bath Towel, Grey", 24.0),
    ("LMP-DESK-LED", "LED Desk Lamp with Dimmer", 39.95),
    ("BTL-STEEL-750", "Insulated Steel Bottle 750 ml", 27.49),
    ("KB-MECH-TKL", "Mechanical Keyboard, Tenkeyless", 74.0),
    ("PLW-MEM-STD", "Memory Foam Pillow", 45.0),
    ("SOCK-WOOL-3P", "Merino Wool Socks, 3 Pack", 19.99),
    ("PAN-NS-28", "Non-Stick Frying Pan 28 cm", 32.5),
    ("BAG-DAY-20L", "Daypack 20 L", 54.99),
)

_FIRST_NAMES: Final = (
    "John", "Maria", "Wei", "Aisha", "Carlos", "Emma", "Olu", "Priya", "Liam", "Sofia", "Noah",
    "Hana",
)  # fmt: skip
_LAST_NAMES: Final = (
    "Doe", "Garcia", "Chen", "Okafor", "Smith", "Novak", "Patel", "Kim", "Rossi", "Brown",
    "Müller", "Ferreira",
)  # fmt: skip
_STREETS: Final = (
    "Fake Street", "Maple Avenue", "Oak Lane", "Harbor Road", "Elm Street", "Sunset Blvd",
    "High Street", "Station Road",
)  # fmt: skip
_US_PLACES: Final = (
    ("Ghost Town", "DC", "91234"),
    ("Springfield", "IL", "62704"),
    ("Austin", "TX", "78701"),
    ("Portland", "OR", "97205"),
    ("Columbus", "OH", "43215"),
    ("Raleigh", "NC", "27601"),
)
_UK_PLACES: Final = (
    ("London", "Greater London", "SW1A 1AA"),
    ("Leeds", "West Yorkshire", "LS1 4AP"),
    ("Bristol", "Bristol", "BS1 5TR"),
)
_SHIPPING_METHODS: Final = (("Standard", 4.99), ("Expedited", 9.99), ("FedEx", 1.95))
_CARRIERS: Final = ("FedEx", "UPS", "USPS", "DHL", "Royal Mail")
_LOYALTY_TIERS: Final = ("none", "silver", "gold", "platinum")
_WAREHOUSES: Final = ("EWR-1", "LAX-2", "DFW-1", "ORD-3")
_CHANNELS: Final = ("web", "mobile_app", "marketplace_api")
_RETURN_REASONS: Final = (
    "wrong_item_received",
    "defective_item_received",
    "damaged_item_received",
    "customer_return",
    "item_received_late",
)
_RETURN_NOTES: Final = ("Didn't fit me!", "Arrived broken.", "Changed my mind.", "")


class Generator:
    """Builds order and return objects; ids are allocated by the caller (the world)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def order(self, order_id: str, now: int) -> JSON:
        """A new, unconfirmed order (state ORDERED, ``cp_order_number`` null)."""
        rng = self._rng
        market = rng.choice(_MARKETPLACES)
        purchased = now - rng.randint(5 * _MINUTE_MS, 3 * _DAY_MS)
        name = f"{rng.choice(_FIRST_NAMES)} {CANARY}-{rng.choice(_LAST_NAMES)}"
        city, region, postal = rng.choice(_UK_PLACES if market.country == "GBR" else _US_PLACES)
        address1 = f"{CANARY} House, {rng.randint(1, 9999)} {rng.choice(_STREETS)}"
        us, uk = CANARY_PHONES
        phone = (
            f"{uk}{rng.randint(1000, 9999)}"
            if market.country == "GBR"
            else f"{us}{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
        )
        fulfilled_by_marketplace = market.integration_name == "amazon" and rng.random() < 0.1
        skus = rng.sample(range(len(_PRODUCTS)), rng.randint(1, 4))
        lines = [self._order_line(_PRODUCTS[i], market, fulfilled_by_marketplace) for i in skus]
        email_user = name.lower().replace(" ", ".").replace("ü", "ue")
        info: JSON = {
            "mp_order_number": self._mp_order_number(market),
            "mp_alt_order_number": self._digits(3, 11),
            "customer_order_number": self._digits(8),
            "cp_order_number": None,
            "marketplace_name": market.marketplace_name,
            "purchase_date": render(purchased),
            "currency": market.currency,
            "shipping_full_name": name,
            "shipping_address1": address1,
            "shipping_address2": rng.choice(("", "", f"Apt {rng.randint(1, 40)}")),
            "shipping_address3": "",
            "shipping_address_type": rng.choice(("residential", "commercial")),
            "shipping_city": city,
            "shipping_state": region,
            "shipping_postal_code": postal,
            "shipping_country_code": market.country,
            "shipping_phone": phone,
            "sales_channel": market.sales_channel,
            "locale": market.locale,
            "customer_full_name": name,
            "customer_email": f"{email_user}@example.com",
            "customer_phone": phone,
            "customer_vat": "",
            "delivery_notes": rng.choice(("", "Leave at the back door.", "Call on arrival.")),
            "estimated_ship_date": render(purchased + _DAY_MS),
            "earliest_ship_date": render(purchased),
            "latest_ship_date": render(purchased + 2 * _DAY_MS),
            "estimated_delivery_date": render(purchased + 4 * _DAY_MS),
            "earliest_delivery_date": render(purchased + 3 * _DAY_MS),
            "latest_delivery_date": render(purchased + 7 * _DAY_MS),
            "is_amazon_prime": market.integration_name == "amazon" and rng.random() < 0.5,
            "is_wish_express": False,
            "gift_message": rng.choice(("", "", "Happy birthday!")),
            "paypal_transaction_ids": [],
            "feedamp_order_id": order_id,
            "marketing_opt_in": rng.random() < 0.3,
            "billing_full_name": name,
            "billing_address_type": "residential",
            "billing_address1": address1,
            "billing_address2": "",
            "billing_address3": "",
            "billing_city": city,
            "billing_state": region,
            "billing_postal_code": postal,
            "billing_country_code": market.country,
            "billing_phone": phone,
            "order_tags": rng.choice(([], ["priority"], ["gift"])),
            "customer_tags": rng.choice(([], ["repeat_customer"])),
            "order_additional_properties": {"sandbox_generated": True},
            "sandbox_loyalty_tier": rng.choice(_LOYALTY_TIERS),
            "order_lines": lines,
        }
        return {
            "id": order_id,
            "state": ORDERED,
            "marketplace_state": "AWAITING_SHIPMENT",
            "integration_name": market.integration_name,
            "paused": 0,
            "acknowledged": 0,
            "sandbox_channel": rng.choice(_CHANNELS),
            "order_info": info,
        }

    def _digits(self, *lengths: int) -> str:
        """Random digit groups joined by dashes: ``(3, 7, 7)`` → ``111-9999888-5555566``."""
        return "-".join(str(self._rng.randint(10 ** (n - 1), 10**n - 1)) for n in lengths)

    def _mp_order_number(self, market: _Marketplace) -> str:
        if market.integration_name == "amazon":
            return self._digits(3, 7, 7)
        if market.integration_name == "ebay":
            return self._digits(2, 5, 5)
        return self._digits(13)

    def _order_line(
        self, product: tuple[str, str, float], market: _Marketplace, marketplace_fulfilled: bool
    ) -> JSON:
        rng = self._rng
        sku, product_name, list_price = product
        quantity = rng.randint(1, 3)
        unit_price = round(list_price * rng.choice((1.0, 1.0, 0.9, 1.05)), 2)
        sales_tax = round(unit_price * quantity * 0.08, 2)
        method, shipping_price = rng.choice(_SHIPPING_METHODS)
        shipping_tax = round(shipping_price * 0.08, 2)
        discount = rng.choice((0.0, 0.0, round(unit_price * 0.1, 2)))
        gift_wrap = rng.random() < 0.1
        gift_wrap_price = 5.99 if gift_wrap else 0.0
        gift_wrap_tax = 0.3 if gift_wrap else 0.0
        total = unit_price * quantity + sales_tax + shipping_price + shipping_tax - discount
        return {
            "mp_line_number": self._digits(14),
            "sku": sku,
            "product_name": product_name,
            "quantity": quantity,
            "unit_price": unit_price,
            "sales_tax": sales_tax,
            "shipping_method": method,
            "shipping_price": shipping_price,
            "shipping_tax": shipping_tax,
            "discount_name": "SPRING10" if discount else "",
            "discount": discount,
            "platform_discount": 0.0,
            "shipping_discount_name": "",
            "shipping_discount": 0.0,
            "commission": round(unit_price * quantity * market.commission_rate, 2),
            "gift_wrap_price": gift_wrap_price,
            "gift_wrap_tax": gift_wrap_tax,
            "amount_available_for_refund": round(total + gift_wrap_price + gift_wrap_tax, 2),
            "is_tax_collected_by_marketplace": market.tax_by_marketplace,
            "bundle_components": [],
            "is_target_two_day": market.integration_name == "target" and rng.random() < 0.3,
            "marketplace_fulfilled": marketplace_fulfilled,
            "order_line_additional_properties": {},
            "sandbox_warehouse_hint": rng.choice(_WAREHOUSES),
            "fulfillments": [],
            "cancellations": [],
        }

    def return_(
        self,
        return_id: str,
        order: JSON,
        state: str,
        now: int,
        line_ids: list[str],
        merchant_return_number: str | None,
    ) -> JSON:
        """A return of 1 to ``len(line_ids)`` distinct lines of ``order``, in ``state``.

        ``line_ids`` are the ``feedamp_return_line_id`` values the world reserved; only as many
        are used as the order has lines (the caller learns which from the result).
        """
        rng = self._rng
        info = order["order_info"]
        order_lines = info["order_lines"]
        chosen = rng.sample(order_lines, min(len(line_ids), len(order_lines)))
        requested = now - rng.randint(_MINUTE_MS, 10 * _DAY_MS)
        closed_refunded = state == "Merchant Refunded"
        lines = [
            self._return_line(line_id, line, closed_refunded)
            for line_id, line in zip(line_ids, chosen, strict=False)
        ]
        stamp = render(requested)
        pre_authorized = 0 if merchant_return_number or state == "Pending Authorization" else 1
        return {
            "id": return_id,
            "state": state,
            "integration_name": order["integration_name"],
            "paused": 0,
            "order_id": order["id"],
            "created_at": stamp,
            "refreshed_at": render(now),
            "return_info": {
                "mp_return_number": self._digits(3, 7) + "RT",
                "mp_order_number": info["mp_order_number"],
                "marketplace_name": info["marketplace_name"],
                "pre_authorized": pre_authorized,
                "request_date": stamp,
                "return_lines": lines,
                "respond_by_date": render(requested + 2 * _DAY_MS),
                "notes": rng.choice(_RETURN_NOTES),
                "merchant_return_number": merchant_return_number,
            },
        }

    def _return_line(self, line_id: str, order_line: JSON, refunded: bool) -> JSON:
        rng = self._rng
        quantity = rng.randint(1, order_line["quantity"])
        share = quantity / order_line["quantity"]
        return {
            "feedamp_return_line_id": line_id,
            "mp_return_line_number": self._digits(3, 3, 3),
            "mp_order_line_number": order_line["mp_line_number"],
            "quantity": quantity,
            "reason": rng.choice(_RETURN_REASONS),
            "shipping_expected": 1,
            "sku": order_line["sku"],
            "product_name": order_line["product_name"],
            "requested_refund_principal": round(order_line["unit_price"] * quantity, 2),
            "requested_refund_tax": round(order_line["sales_tax"] * share, 2),
            "requested_refund_shipping": 0.0,
            "requested_refund_shipping_tax": 0.0,
            "carrier": rng.choice(_CARRIERS),
            "tracking_number": self._digits(12),
            "destination": "123 Example St. Los Angeles, CA",
            "merchant_refunded": refunded,
        }


def raw_marketplace_data(order: JSON) -> JSON:
    """What ``include_raw=true`` adds under ``raw``: a marketplace-flavoured copy of the order.

    The docs name no field for raw data; ``raw`` is the sandbox's choice. It is derived from the
    order (not stored), so it costs nothing unless asked for.
    """
    info = order["order_info"]
    return {
        "MarketplaceOrderId": info["mp_order_number"],
        "PurchaseDate": info["purchase_date"],
        "SalesChannel": info["sales_channel"],
        "OrderTotal": {
            "CurrencyCode": info["currency"],
            "Amount": round(
                sum(line["unit_price"] * line["quantity"] for line in info["order_lines"]), 2
            ),
        },
        "Items": [
            {"OrderItemId": line["mp_line_number"], "SellerSKU": line["sku"]}
            for line in info["order_lines"]
        ],
    }
