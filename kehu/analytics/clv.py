"""Customer lifetime value: the BG/NBD model of how often customers buy and when they quietly stop, and the
Gamma-Gamma model of how much they spend per purchase, fitted by maximum likelihood.

References: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the Pareto/NBD
model", Marketing Science 24(2); Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer
base analysis", Journal of Marketing Research 42(4). The formulas below are the papers' equations, numbered as
there.

Per customer the models need
- x: repeat purchases (purchases after the first; several on one day count as one),
- t_x: time from the first purchase to the last,
- T: time from the first purchase to the end of the observation,
- m_x: the average value of the repeat purchases (Gamma-Gamma only; customers with x > 0).
Time is in whatever unit the caller uses (Kehu: days); the parameters α and γ are in that unit and currency.

This module is plain arithmetic over NumPy arrays; `kehu.analytics.values` reads the orders and stores the
predictions.
"""

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special


class FitError(ValueError):
    """The data cannot support a fit (too few customers, no repeat buyers) or the optimiser did not converge."""


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}


def _compress(*columns):
    """Identical customers contribute identical likelihood terms: fit over the distinct rows with their counts."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


def _minimise(negative_ll, start: np.ndarray) -> np.ndarray:
    """Minimise over the logarithms of the parameters (all must be positive), each kept within e^±15 so that
    data without a finite optimum (everyone alike) stops at a bound instead of wandering: L-BFGS-B, then
    Nelder-Mead from where it stopped, which settles the last digits."""
    bounds = [(-15.0, 15.0)] * len(start)
    result = optimize.minimize(
        negative_ll, start, method="L-BFGS-B", bounds=bounds, options={"maxiter": 500, "ftol": 1e-13}
    )
    polished = optimize.minimize(
        negative_ll,
        result.x,
        method="Nelder-Mead",
        bounds=bounds,
        options={"xatol": 1e-8, "fatol": 1e-10, "maxfev": 2_000},
    )
    if polished.fun <= result.fun:
        result = polished
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise FitError("the optimiser did not converge")
    return np.exp(result.x)


def bgnbd_log_likelihood(params: BgNbd, x, t_x, T) -> np.ndarray:
    """Each customer's log-likelihood (eq. 6)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    beta_ab = special.betaln(a, b)
    still = special.betaln(a, b + x) - beta_ab - (r + x) * np.log(alpha + T)
    repeat = x > 0
    dropped = np.full_like(x, -np.inf)
    dropped[repeat] = (
        special.betaln(a + 1, b + x[repeat] - 1) - beta_ab - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    )
    return common + np.logaddexp(still, dropped)


def bgnbd_fit(x, t_x, T) -> tuple[BgNbd, float]:
    """Maximum-likelihood BG/NBD parameters and the total log-likelihood."""
    x = np.asarray(x, dtype=float)
    if x.size == 0 or not np.any(x > 0):
        raise FitError("no repeat purchases")
    (ux, ut, uT), weights = _compress(x, t_x, T)

    def negative_ll(log_params):
        params = BgNbd(*np.exp(log_params))
        ll = bgnbd_log_likelihood(params, ux, ut, uT)
        total = np.dot(weights, ll)
        return -total if np.isfinite(total) else np.inf

    scale = float(np.mean(uT)) or 1.0
    r, alpha, a, b = _minimise(negative_ll, np.log([1.0, scale, 1.0, 1.0]))
    params = BgNbd(float(r), float(alpha), float(a), float(b))
    return params, float(-negative_ll(np.log([r, alpha, a, b])))


def _dropout_odds(params: BgNbd, x, t_x, T) -> np.ndarray:
    """a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x) for repeat buyers, 0 for the others."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    odds = np.zeros_like(x)
    repeat = x > 0
    xr = x[repeat]
    odds[repeat] = (
        params.a
        / (params.b + xr - 1)
        * np.exp((params.r + xr) * (np.log(params.alpha + T[repeat]) - np.log(params.alpha + t_x[repeat])))
    )
    return odds


def probability_alive(params: BgNbd, x, t_x, T) -> np.ndarray:
    """P(still a customer | x, t_x, T) (eq. 11)."""
    return 1.0 / (1.0 + _dropout_odds(params, x, t_x, T))


def expected_purchases(params: BgNbd, t, x, t_x, T) -> np.ndarray:
    """Expected purchases in the next `t` by a customer with history (x, t_x, T) (eq. 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    z = t / (alpha + T + t)
    hyper = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    ahead = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyper)
    return ahead / (1.0 + _dropout_odds(params, x, t_x, T))


def expected_purchases_new(params: BgNbd, t) -> np.ndarray:
    """Expected repeat purchases in `t` by a customer who has just made a first purchase (eq. 9)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=float)
    hyper = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyper)


def gamma_gamma_log_likelihood(params: GammaGamma, x, m_x) -> np.ndarray:
    """Each repeat buyer's log-likelihood of their average purchase value m_x over x purchases."""
    p, q, gamma = params.p, params.q, params.gamma
    x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m_x)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m_x * x)
    )


def gamma_gamma_fit(x, m_x) -> tuple[GammaGamma, float]:
    """Maximum-likelihood Gamma-Gamma parameters over the customers with repeat purchases of positive value."""
    x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
    keep = (x > 0) & (m_x > 0)
    if not np.any(keep):
        raise FitError("no repeat purchases of positive value")
    (ux, um), weights = _compress(x[keep], m_x[keep])

    def negative_ll(log_params):
        total = np.dot(weights, gamma_gamma_log_likelihood(GammaGamma(*np.exp(log_params)), ux, um))
        return -total if np.isfinite(total) else np.inf

    p, q, gamma = _minimise(negative_ll, np.log([1.0, 2.0, float(np.mean(um)) or 1.0]))
    params = GammaGamma(float(p), float(q), float(gamma))
    return params, float(-negative_ll(np.log([p, q, gamma])))


def expected_spend(params: GammaGamma, x, m_x) -> np.ndarray:
    """Expected value of a customer's future purchases: a weighted mean of the population's (γp / (q − 1)) and
    their own average, the more purchases the more their own counts. Defined only for q > 1."""
    p, q, gamma = params.p, params.q, params.gamma
    x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
    population = gamma * p / (q - 1)
    own = np.where(x > 0, m_x, 0.0)
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * population + weight * own


def lifetime_value(bgnbd: BgNbd, spend, x, t_x, T, *, months: int, month: float, yearly_discount: float):
    """Value of the next `months` months (each `month` long in the time unit): every month's expected purchases
    times the expected spend, discounted monthly at the yearly rate."""
    monthly = (1 + yearly_discount) ** (1 / 12) - 1
    total = np.zeros(np.shape(x), dtype=float)
    before = np.zeros_like(total)
    for i in range(1, months + 1):
        upto = expected_purchases(bgnbd, i * month, x, t_x, T)
        total += (upto - before) / (1 + monthly) ** i
        before = upto
    return total * np.asarray(spend, dtype=float)
