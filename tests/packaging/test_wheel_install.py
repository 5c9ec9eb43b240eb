"""``python -m build`` makes a wheel and an sdist; the wheel, installed into a fresh virtual
environment, works in a new Django project (check and migrate pass) without this checkout.

The fresh environment gets no download: the wheel is installed with ``--no-deps`` and the
dependencies are seen through a ``.pth`` line naming this environment's site-packages (TensorFlow
and the rest are not installed again).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def run(*args: str, cwd: Path, env: dict | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)  # noqa: S603
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


SHOP_MODELS = textwrap.dedent(
    """
    from django.db import models


    class Category(models.Model):
        name = models.CharField(max_length=100)


    class Product(models.Model):
        sku = models.CharField(max_length=20, unique=True)
        name = models.CharField(max_length=200)
        category = models.ForeignKey(Category, on_delete=models.PROTECT)
        price = models.DecimalField(max_digits=10, decimal_places=2)
        in_stock = models.BooleanField(default=True)

        def get_absolute_url(self):
            return f"/shop/products/{self.sku}/"
    """
)
SHOP_URLS = textwrap.dedent(
    """
    from django.http import HttpResponse
    from django.urls import path

    app_name = "shop"
    urlpatterns = [path("products/<str:sku>/", lambda request, sku: HttpResponse(sku), name="product")]
    """
)


def readme_snippet() -> tuple[str, str]:
    """The settings and the URL lines of the README's integration snippet."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    settings_part, urls_part = block.split("# urls.py\n")
    assert settings_part.startswith("# settings.py\n")
    return settings_part, urls_part


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(out), ".", cwd=ROOT)
    return out


def test_build_makes_a_wheel_and_an_sdist_without_tests_or_benchmarks(dist):
    (wheel,) = dist.glob("django_promotions-*.whl")
    (sdist,) = dist.glob("django_promotions-*.tar.gz")
    wheel_names = zipfile.ZipFile(wheel).namelist()
    sdist_names = [name.split("/", 1)[1] for name in tarfile.open(sdist).getnames() if "/" in name]
    for names in (wheel_names, sdist_names):
        assert any(name.startswith("promotions/contrib/oscar/") for name in names)
        assert not any(name.startswith(("tests/", "benchmarks/", "shop_demo/")) for name in names), names
    assert not any("simulation" in name for name in wheel_names)
    oscar_templates = ROOT / "promotions" / "contrib" / "oscar" / "templates"
    shipped = {str(path.relative_to(ROOT)) for path in oscar_templates.rglob("*.html")}
    assert shipped and shipped <= set(wheel_names)


def test_the_wheel_installed_in_a_fresh_venv_runs_a_new_project(dist, tmp_path):
    (wheel,) = dist.glob("django_promotions-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(python),
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        str(wheel),
        cwd=tmp_path,
    )
    site = Path(
        run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).strip()
    )
    (site / "parent_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "DJANGO_SETTINGS_MODULE"}}

    project = tmp_path / "project"
    project.mkdir()
    run(str(python), "-m", "django", "startproject", "newshop", str(project), cwd=tmp_path, env=env)
    run(str(python), "manage.py", "startapp", "shop", cwd=project, env=env)
    (project / "shop" / "models.py").write_text(SHOP_MODELS)
    (project / "shop" / "urls.py").write_text(SHOP_URLS)
    # The README's "Use it in your shop" settings and URLs, literally, in a shop shaped like its example.
    readme_settings, readme_urls = readme_snippet()
    with (project / "newshop" / "settings.py").open("a") as settings_file:
        settings_file.write('\nINSTALLED_APPS += ["shop"]\n' + readme_settings)
    urls = project / "newshop" / "urls.py"
    urls.write_text(
        urls.read_text().replace("from django.urls import path", "from django.urls import include, path")
        + '\nurlpatterns += [path("shop/", include("shop.urls"))]\n'
        + readme_urls
    )
    where = run(str(python), "-c", "import promotions; print(promotions.__file__)", cwd=project, env=env)
    assert where.startswith(str(venv))  # the installed wheel, not this checkout
    run(str(python), "manage.py", "makemigrations", "shop", cwd=project, env=env)
    run(str(python), "manage.py", "migrate", "-v", "0", cwd=project, env=env)
    assert "no issues" in run(str(python), "manage.py", "check", cwd=project, env=env)
