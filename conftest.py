"""Shared fixtures: a small organisation with every role, built through the real services."""

from types import SimpleNamespace

import pytest
from django.core.cache import cache

from kehu.users.models import Role
from kehu.users.services import membership_set, org_unit_create, user_create

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 - the test users' password


def pytest_configure(config):
    """WhiteNoise warns (an error here) when STATIC_ROOT is missing, as it is in a fresh KEHU_VAR_DIR."""
    from pathlib import Path

    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _clean_caches():
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request in another language leaves it active in the thread; the next test starts in the default."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 costs ~0.5 s per hash by design; tests that are not about hashing use a fast hasher.
    tests/test_security.py checks that the real settings hash with argon2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db):
    """Company → East region (teams A, B) and North region (team C), with one user per role.

    - admin: system admin
    - east_manager: manager of the East region (sees teams A and B)
    - unit_admin: unit admin of the East region
    - rep_a, rep_a2: sales reps in team A; rep_b: sales rep in team B; rep_c: sales rep in team C (North)
    - agent_a: service agent in team A; analyst: read-only analyst of the East region
    """
    company = org_unit_create(name="客户科技集团", kind="company")
    east = org_unit_create(name="华东大区", kind="region", parent=company)
    north = org_unit_create(name="华北大区", kind="region", parent=company)
    team_a = org_unit_create(name="上海一组", kind="team", parent=east)
    team_b = org_unit_create(name="杭州一组", kind="team", parent=east)
    team_c = org_unit_create(name="北京一组", kind="team", parent=north)

    def person(username, display_name, unit, role, **extra):
        user = user_create(
            username=username,
            password=PASSWORD,
            display_name=display_name,
            email=f"{username}@kehu.test",
            **extra,
        )
        membership_set(actor=None, user=user, unit=unit, role=role)
        return user

    return SimpleNamespace(
        company=company,
        east=east,
        north=north,
        team_a=team_a,
        team_b=team_b,
        team_c=team_c,
        admin=person("admin", "系统管理员", company, Role.SYSTEM_ADMIN),
        east_manager=person("east_manager", "王经理", east, Role.MANAGER),
        unit_admin=person("unit_admin", "赵管理", east, Role.UNIT_ADMIN),
        rep_a=person("rep_a", "李销售", team_a, Role.SALES_REP),
        rep_a2=person("rep_a2", "周销售", team_a, Role.SALES_REP),
        rep_b=person("rep_b", "陈销售", team_b, Role.SALES_REP),
        rep_c=person("rep_c", "刘销售", team_c, Role.SALES_REP),
        agent_a=person("agent_a", "吴客服", team_a, Role.SERVICE_AGENT),
        analyst=person("analyst", "孙分析", east, Role.ANALYST),
        password=PASSWORD,
    )


@pytest.fixture
def make_customer(db):
    """Create a customer through the service: make_customer(owner, name=..., **fields)."""
    from kehu.customers.services import customer_create

    counter = {"n": 0}

    def make(actor, *, name=None, owner=None, org_unit=None, tags=None, custom=None, **data):
        counter["n"] += 1
        data.setdefault("name", name or f"测试客户{counter['n']:04d}")
        return customer_create(
            actor=actor, data=data, owner=owner, org_unit=org_unit, tags=tags, custom=custom
        )

    return make


@pytest.fixture
def login(client):
    """login(user) → the Django test client with that user's session."""

    def do(user):
        client.force_login(user)
        return client

    return do


@pytest.fixture
def database_worker(settings):
    """Jobs go to the database queue; calling the fixture runs the real `db_worker` until the queue is empty.

    The worker installs its own SIGINT/SIGTERM/SIGQUIT handlers; pytest's are put back afterwards."""
    import signal

    from django.core.management import call_command

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}

    def run() -> None:
        call_command(
            "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0", verbosity=0
        )

    yield run
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def regions(db):
    """China's administrative divisions, loaded from the data file fetched at install."""
    from pathlib import Path

    from django.conf import settings

    from kehu.core.services import regions_load

    regions_load(
        path=Path(settings.BASE_DIR) / "var" / "assets" / "data" / "china-division" / "pca-code.json"
    )


@pytest.fixture
def pipeline(db):
    """A pipeline open to every unit: qualify (10%) → proposal (50%, needs amount and close date) → won / lost."""
    from kehu.sales.services.opportunities import pipeline_create

    pipeline = pipeline_create(
        name="测试流程",
        name_en="Test pipeline",
        followup_days=30,
        position=9,
        stages=[
            {"name": "初步接洽", "name_en": "Qualify", "probability": 10},
            {
                "name": "方案报价",
                "name_en": "Proposal",
                "probability": 50,
                "required_fields": ["amount", "expected_close_on"],
            },
            {"name": "赢单", "name_en": "Won", "probability": 100, "outcome": "won"},
            {"name": "输单", "name_en": "Lost", "probability": 0, "outcome": "lost"},
        ],
    )
    pipeline.qualify, pipeline.proposal, pipeline.won, pipeline.lost = pipeline.stages.order_by("position")
    return pipeline
