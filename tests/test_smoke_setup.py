from sqlalchemy import func, select

from blueprints.auth.models import User
from extensions import db
from tests.factories import create_user


def test_factories_write_real_rows(app):
    create_user("director")
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
