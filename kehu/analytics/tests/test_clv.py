"""The BG/NBD and Gamma-Gamma fits reproduce Fader, Hardie & Lee (2005) on the CDNOW sample (2,357 customers, 39
weeks of calibration) that the `lifetimes` package ships; only its data file is read here."""

import csv
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from kehu.analytics import clv


def sig3(value: float) -> float:
    return float(f"{value:.3g}")


@pytest.fixture(scope="module")
def cdnow():
    folder = Path(find_spec("lifetimes").origin).parent / "datasets"
    with (folder / "cdnow_customers_summary_with_transactions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return {name: np.array([float(r[name]) for r in rows]) for name in ("x", "t_x", "T", "zbar")}


def test_bgnbd_reproduces_the_published_parameters_and_log_likelihood(cdnow):
    params, log_likelihood = clv.bgnbd_fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    # Fader, Hardie & Lee (2005), "Counting your customers the easy way", section 5: r = 0.243, α = 4.414,
    # a = 0.793, b = 2.426, LL = −9582.4.
    assert [sig3(v) for v in (params.r, params.alpha, params.a, params.b)] == [0.243, 4.41, 0.793, 2.43]
    assert round(log_likelihood, 1) == -9582.4


def test_bgnbd_predictions_match_the_papers_worked_example(cdnow):
    params = clv.BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)
    # A customer with 2 repeat purchases, the last at week 30.43 of 38.86: 1.226 purchases in the next 39 weeks.
    assert round(float(clv.expected_purchases(params, 39, [2], [30.43], [38.86])[0]), 3) == 1.226
    # Never came back: alive for sure in this model; a long silence after buying often makes it unlikely.
    assert clv.probability_alive(params, [0], [0], [38.86])[0] == 1.0
    assert clv.probability_alive(params, [5], [2.0], [38.86])[0] < 0.2
    # Someone who has just bought for the first time (x = t_x = T = 0) expects what a new customer does.
    fresh = clv.expected_purchases(params, 39.0, [0], [0], [0])[0]
    assert fresh == pytest.approx(float(clv.expected_purchases_new(params, 39.0)), rel=1e-12)


def test_gamma_gamma_reproduces_the_published_parameters(cdnow):
    params, _ll = clv.gamma_gamma_fit(cdnow["x"], cdnow["zbar"])
    # Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves": p = 6.25, q = 3.74, γ = 15.44 over the
    # 946 customers with repeat purchases.
    assert [sig3(v) for v in (params.p, params.q, params.gamma)] == [6.25, 3.74, 15.4]
    # The population's mean spend per purchase is γp / (q − 1) = $35.2; a customer's expectation lies between
    # it and their own average, nearer their own the more they bought.
    one, many = clv.expected_spend(params, [1, 10], [100.0, 100.0])
    assert 35.2 < one < many < 100


def test_lifetime_value_is_expected_purchases_times_spend_discounted():
    params = clv.BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)
    x, t_x, T = np.array([2.0]), np.array([30.43]), np.array([38.86])
    undiscounted = clv.lifetime_value(params, [50.0], x, t_x, T, months=12, month=4.0, yearly_discount=0.0)
    assert undiscounted[0] == pytest.approx(50 * clv.expected_purchases(params, 48.0, x, t_x, T)[0])
    discounted = clv.lifetime_value(params, [50.0], x, t_x, T, months=12, month=4.0, yearly_discount=0.1)
    assert discounted[0] < undiscounted[0]


def test_no_repeat_buyers_is_an_error_not_a_model():
    with pytest.raises(clv.FitError):
        clv.bgnbd_fit([0, 0, 0], [0, 0, 0], [10, 20, 30])
    with pytest.raises(clv.FitError):
        clv.gamma_gamma_fit([0, 0], [0, 0])
