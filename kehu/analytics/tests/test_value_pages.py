"""The model page, the churn-warning list and its measures, the charts' downloads and drill-downs — each scoped
to the customers the user sees."""

import csv
import io
from datetime import timedelta

import pytest

from kehu.activities.models import Task, TimelineEntry
from kehu.analytics import values
from kehu.analytics.models import ChurnWarning, CustomerValue, ScoreSettings
from kehu.analytics.scores import recompute as scores_recompute
from kehu.analytics.tests.history import NOW, Orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def warned(org, make_customer):
    """Two one-time buyers past 90 days: one of rep A's (team A), one of rep C's (North)."""
    ScoreSettings.objects.create(min_customers=1, min_repeaters=1)
    orders = Orders(org)
    mine = make_customer(org.rep_a, name="甲方客户")
    theirs = make_customer(org.rep_c, name="北方客户")
    orders.add(mine, 95, "500")
    orders.add(theirs, 100, "300")
    regular = make_customer(org.rep_a, name="常来客户")
    for k in range(4):
        orders.add(regular, 3 + 10 * k, "100")
    scores_recompute(now=NOW)
    values.recompute(now=NOW)
    return {"mine": mine, "theirs": theirs, "regular": regular}


def test_the_warning_list_shows_only_the_users_customers_and_hides_others_by_every_path(warned, org, login):
    client = login(org.rep_a)
    page = client.get("/analytics/churn/").content.decode()
    assert "甲方客户" in page and "北方客户" not in page
    theirs = ChurnWarning.objects.get(customer=warned["theirs"])
    assert client.get(f"/analytics/churn/{theirs.pk}/").status_code == 404
    assert (
        client.post(f"/analytics/churn/{theirs.pk}/", {"action": "lost", "lost_reason": "x"}).status_code
        == 404
    )
    listed = client.get("/customers/?segment=churn:warned").content.decode()
    assert listed.count('data-testid="customer-row"') == 1 and "甲方客户" in listed
    everything = login(org.admin).get("/analytics/churn/").content.decode()
    assert "甲方客户" in everything and "北方客户" in everything
    # A manager of the East narrows the list to one owner.
    east = login(org.east_manager).get(f"/analytics/churn/?owner={org.rep_a.pk}").content.decode()
    assert "甲方客户" in east and "北方客户" not in east


def test_holding_a_customer_back_makes_a_task_and_a_timeline_entry_and_a_purchase_wins_them_back(
    warned, org, login
):
    client = login(org.rep_a)
    warning = ChurnWarning.objects.get(customer=warned["mine"])
    refused = client.post(
        f"/analytics/churn/{warning.pk}/", {"action": "retain", "measure": "", "due_at": ""}
    )
    assert refused.status_code == 422
    due = (NOW + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    answer = client.post(
        f"/analytics/churn/{warning.pk}/",
        {"action": "retain", "measure": "电话回访，送20元券", "due_at": due},
    )
    assert answer.status_code == 302
    warning.refresh_from_db()
    assert warning.status == ChurnWarning.Status.RETAINING and warning.decided_by == org.rep_a
    task = Task.objects.get(pk=warning.task_id)
    assert (task.customer_id, task.assignee, task.description) == (
        warned["mine"].pk,
        org.rep_a,
        "电话回访，送20元券",
    )
    assert TimelineEntry.objects.filter(customer=warned["mine"], event="churn_retaining").exists()
    Orders(org).add(warned["mine"], -0.5, "200")  # half a day after the warning
    values.recompute(now=NOW + timedelta(days=1))
    warning.refresh_from_db()
    assert warning.status == ChurnWarning.Status.WON_BACK
    page = client.get("/analytics/churn/?status=all").content.decode()
    outcomes = page.split('data-testid="churn-outcomes"')[1].split("</table>")[0]
    assert "1 位中 1 位" in outcomes  # won back after a win-back action: 1 of 1


def test_confirming_the_loss_needs_a_reason_and_settles_the_warning(warned, org, login):
    client = login(org.rep_a)
    warning = ChurnWarning.objects.get(customer=warned["mine"])
    assert (
        client.post(f"/analytics/churn/{warning.pk}/", {"action": "lost", "lost_reason": ""}).status_code
        == 422
    )
    assert (
        client.post(
            f"/analytics/churn/{warning.pk}/", {"action": "lost", "lost_reason": "搬家了"}
        ).status_code
        == 302
    )
    warning.refresh_from_db()
    assert (warning.status, warning.lost_reason) == (ChurnWarning.Status.LOST, "搬家了")
    again = client.post(f"/analytics/churn/{warning.pk}/", {"action": "lost", "lost_reason": "再次"})
    assert again.status_code == 422 and 'data-testid="churn-error"' in again.content.decode()
    assert (
        not login(org.rep_a)
        .get("/customers/?segment=churn:warned")
        .content.decode()
        .count('data-testid="customer-row"')
    )


def test_the_model_page_explains_too_little_data_and_the_customer_page_shows_the_prediction(
    warned, org, login
):
    page = login(org.rep_a).get("/analytics/value/").content.decode()
    assert 'data-testid="value-model"' in page
    predicted = CustomerValue.objects.get(customer=warned["regular"], shop=None)
    fitted = login(org.rep_a).get(f"/customers/{warned['regular'].pk}/").content.decode()
    card = fitted.split('data-testid="customer-value"')[1].split("</table>")[0]
    assert predicted.clv_12 > 0 and f"{predicted.clv_12:,.2f}" in card
    ScoreSettings.objects.update(min_customers=100, min_repeaters=20)
    values.recompute(now=NOW)
    page = login(org.rep_a).get("/analytics/value/").content.decode()
    message = page.split('data-testid="value-message">')[1].split("</div>")[0]
    assert "100" in message and "20" in message
    customer = login(org.rep_a).get(f"/customers/{warned['regular'].pk}/").content.decode()
    assert 'data-testid="customer-value"' in customer
    card = customer.split('data-testid="customer-value"')[1].split("</table>")[0]
    assert "暂无模型" in card  # no model any more: the card says so instead of showing numbers


def test_a_chart_downloads_its_data_and_its_bars_open_exactly_the_customers_counted(warned, org, login):
    client = login(org.rep_a)
    page = client.get("/analytics/rfm/").content.decode()
    assert 'id="classes-option"' in page and 'id="pareto-option"' in page
    response = client.get("/analytics/rfm/?download=classes&format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    counts = {row[0]: int(row[1]) for row in rows[1:]}
    assert sum(counts.values()) == 2  # rep A sees their two buyers, not rep C's
    option = page.split('id="classes-option" type="application/json">')[1].split("</script>")[0]
    link = option.split('"link": "')[1].split('"')[0].replace("\\u0026", "&")
    listed = client.get(link).content.decode()
    first = next(iter(counts.values()))
    assert listed.count('data-testid="customer-row"') == first
    xlsx = client.get("/analytics/rfm/?download=pareto&format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].endswith('.xlsx"')


def test_a_bad_filter_is_explained_and_the_list_shows_unfiltered(warned, org, login):
    page = login(org.rep_a).get("/analytics/churn/?status=nonsense&owner=abc").content.decode()
    assert "pending, all, open" in page  # the allowed statuses, named in the message
    assert "甲方客户" in page
