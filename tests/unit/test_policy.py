"""Pure decisions: seller numbers, confirm read-back."""

from __future__ import annotations

from feedamp_sync.policy import ReadBack, confirm_read_back, disambiguated, seller_number


def test_seller_number_formats_the_row_id_with_the_template() -> None:
    """The default template pads the local id to eight digits."""
    assert seller_number("FA{id:08d}", id=42) == "FA00000042"


def test_a_taken_number_is_disambiguated_with_the_row_id() -> None:
    """A template that collides still yields a unique, stable number."""
    assert disambiguated("AMZ-1", 7) == "AMZ-1-7"


def test_read_back_with_our_number_means_confirmed() -> None:
    """FeedAMP holding our number proves the earlier attempt took effect."""
    order = {"state": "PLACED", "order_info": {"cp_order_number": "FA1"}}
    assert confirm_read_back(order, "FA1") == (ReadBack.CONFIRMED_WITH_OUR_NUMBER, "FA1")


def test_read_back_of_a_new_order_means_not_confirmed() -> None:
    """An order still ORDERED is unconfirmed even if it shows some other number."""
    order = {"state": "ORDERED", "order_info": {"cp_order_number": "61438900216825"}}
    assert confirm_read_back(order, "FA1")[0] is ReadBack.NOT_CONFIRMED


def test_read_back_with_another_number_is_a_conflict() -> None:
    """A confirmed order with a number that is not ours must not be confirmed again."""
    order = {"state": "PLACED", "order_info": {"cp_order_number": "OTHER"}}
    assert confirm_read_back(order, "FA1") == (ReadBack.CONFIRMED_WITH_OTHER_NUMBER, "OTHER")


def test_read_back_tolerates_a_missing_order_info() -> None:
    """A read-back without order_info is judged by its state alone."""
    assert confirm_read_back({"state": "ORDERED"}, "FA1")[0] is ReadBack.NOT_CONFIRMED
