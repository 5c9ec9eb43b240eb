"""Restarting ``manage.py demo``: the staff password and the trained models are kept unless asked.

The demo runs for real on the built-in sample (migrate, load, import, train), in a temporary
VAR_DIR and media folder, without serving.
"""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from promotions.training.models import ModelVersion
from shop_demo import training_state
from shop_demo.management.commands.demo import STAFF_USERNAME

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_dirs(tmp_path):
    cache.clear()
    with override_settings(VAR_DIR=tmp_path / "var", MEDIA_ROOT=tmp_path / "media"):
        yield tmp_path


def run_demo(tmp_path, *flags: str) -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", "--no-replay", "--datasets", str(tmp_path / "no-datasets"), *flags, stdout=out)
    return out.getvalue()


def password_hash() -> str:
    return get_user_model().objects.get(username=STAFF_USERNAME).password


def test_a_restart_keeps_the_password_and_the_models_and_the_flags_renew_them(demo_dirs):
    first = run_demo(demo_dirs)
    printed = re.search(r"password '([^']+)'", first)
    assert printed is not None, first
    user = get_user_model().objects.get(username=STAFF_USERNAME)
    assert user.check_password(printed.group(1)) and user.is_staff and user.is_superuser
    hash_after_first, versions = password_hash(), ModelVersion.objects.count()
    assert versions >= 1 and "Training the recommendation models" in first

    second = run_demo(demo_dirs)
    assert password_hash() == hash_after_first
    assert "password '" not in second and "--reset-password" in second
    assert ModelVersion.objects.count() == versions  # nothing trained
    assert "Reusing the trained models" in second and "Training the recommendation models" not in second

    third = run_demo(demo_dirs, "--reset-password", "--retrain")
    new_password = re.search(r"password '([^']+)'", third).group(1)
    assert password_hash() != hash_after_first
    assert get_user_model().objects.get(username=STAFF_USERNAME).check_password(new_password)
    assert ModelVersion.objects.count() > versions
    assert "Training the recommendation models" in third


def test_changed_data_or_lost_models_train_again(demo_dirs, tmp_path):
    run_demo(demo_dirs)
    versions = ModelVersion.objects.count()
    files = [tmp_path / "a.csv"]
    files[0].write_text("x\n")
    # Another data file, or the same file with other content, is another fingerprint.
    first = training_state.fingerprint(files, {})
    files[0].write_text("y\n")
    assert training_state.fingerprint(files, {}) != first
    assert training_state.fingerprint(files, {"days": 1}) != training_state.fingerprint(files, {"days": 2})
    # The versions the state names are gone (a database emptied under an unchanged var/): train.
    ModelVersion.objects.all().delete()
    output = run_demo(demo_dirs)
    assert "Training the recommendation models" in output
    assert versions >= 1 and ModelVersion.objects.count() >= 1
