"""The active ISO 4217 currency codes, kept as data so a refund's ``currency`` is checked offline.

This is ISO 4217 List One (current currency and funds codes) as published by the maintenance
agency (SIX) in 2025: Curaçao and Sint Maarten's ``XCG`` has replaced ``ANG``, Zimbabwe's ``ZWG``
has replaced ``ZWL``, and the withdrawn ``CUC``, ``HRK`` and ``SLL`` are gone. ``XTS`` (reserved
for testing) and ``XXX`` ("no currency") are on the list but are not money a marketplace can
refund, so they are left out. Update this set when an amendment adds or withdraws a code.
"""

from __future__ import annotations

from typing import Final

_LIST_ONE: Final = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP
PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP
SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV
WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG
"""

ACTIVE_CURRENCIES: Final = frozenset(_LIST_ONE.split())
