"""Concurrent redemptions cannot spend the same points twice: real threads, each with its own database
connection, redeem at the same moment; the member-row lock makes them take turns."""

import threading

import pytest
from django.db import connection, connections

from kehu.loyalty import services
from kehu.loyalty.models import Member, PointsEntry


@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_overspend(org, buyer, place):
    """Skipped on SQLite only: SQLite has one writer at a time and no row locks (`select_for_update` is a no-op
    there), so threads would wait on the database file instead of testing our lock. CI runs the suite on
    PostgreSQL as well, where this test runs."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers on the whole file)")
    place(buyer, "100")
    services.points_accrue()
    threads_count, cost = 8, 30
    start = threading.Barrier(threads_count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def redeem(n: int) -> None:
        try:
            start.wait()
            services.points_redeem_gift(actor=org.rep_a, customer=buyer, points=cost, gift=f"礼品{n}")
            result = "ok"
        except Exception as exc:  # the refusal is what is counted
            result = type(exc).__name__
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=redeem, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("ok") == 3  # 3 × 30 ≤ 100 < 4 × 30
    assert outcomes.count("ValidationFailed") == threads_count - 3
    assert Member.objects.get(customer=buyer).points == 10
    assert sum(PointsEntry.objects.filter(customer=buyer).values_list("points", flat=True)) == 10
    assert services.ledger_drift() == {}
