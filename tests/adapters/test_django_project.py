"""Django's CSRF check in a real ``django-admin startproject`` layout, with CSRF enforced as a
browser meets it: the documented API views (``@csrf_exempt``) answer credit refusals as
problem documents; a session-style view keeps CSRF, whose 403 is Django's HTML page and is
refused before any credit query is made.

The project runs in a subprocess (its own settings module), bounded in time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.support import AS_OF, raw
from tests.adapters.test_docs_web import sandbox, source  # noqa: F401  (the fixture)

pytest.importorskip("django")

SCRIPT = """
import json, os, sys
sys.path.insert(0, os.getcwd())
os.environ["DJANGO_SETTINGS_MODULE"] = "site_conf.settings"
import django
django.setup()
from django.test import Client

http = Client(enforce_csrf_checks=True)
out = {}
def record(name, response):
    out[name] = {
        "status": response.status_code,
        "type": response.headers.get("Content-Type", ""),
        "body": response.content.decode("utf-8", "replace")[:4000],
    }
record("api_refused", http.post("/applications/", {"applicant_id": sys.argv[1]}))
record("api_clear", http.post("/applications/", {"applicant_id": sys.argv[2]}))
record("form_no_token", http.post("/desk/", {"applicant_id": sys.argv[3]}))
page = http.get("/desk/")
token = http.cookies["csrftoken"].value
record("form_with_token", http.post("/desk/", {"applicant_id": sys.argv[1]},
                                     HTTP_X_CSRFTOKEN=token))
print(json.dumps(out))
"""


def _project(tmp: Path, platform: Any) -> Path:
    admin = shutil.which("django-admin", path=str(Path(sys.executable).parent))
    assert admin is not None
    tmp.mkdir()
    subprocess.run([admin, "startproject", "site_conf", str(tmp)], check=True, timeout=60)
    app = tmp / "permits"
    app.mkdir()
    (app / "__init__.py").write_text("")
    credit = source("permits/credit.py", platform)
    (app / "credit.py").write_text(
        f"import datetime\n__today__ = lambda: datetime.date.fromisoformat({AS_OF.isoformat()!r})\n"
        + credit
    )
    views = source("permits/views.py", platform)
    views += textwrap.dedent(
        """

        from django.http import HttpResponse
        from django.middleware.csrf import get_token


        @credit_check(Scenario.ADMIN_LICENSING, subject="applicant_id")
        def desk(request: HttpRequest, decision: Decision = None) -> HttpResponse:
            # A session-style page: CSRF stays on (no csrf_exempt).
            return JsonResponse({"credit": decision.outcome.value})


        def desk_page(request: HttpRequest) -> HttpResponse:
            get_token(request)  # sets the csrftoken cookie, as a rendered form would
            return HttpResponse("form")
        """
    )
    (app / "views.py").write_text(views)
    urls = source("permits/urls.py", platform)
    urls = urls.replace(
        "urlpatterns = [",
        "def desk_route(request):\n"
        "    return views.desk(request) if request.method == 'POST' else views.desk_page(request)\n"
        '\n\nurlpatterns = [\n    path("desk/", desk_route, name="desk"),',
    )
    (app / "urls.py").write_text(urls)
    settings_file = tmp / "site_conf" / "settings.py"
    settings = settings_file.read_text()
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings  # what startproject makes
    snippet = source("permits/settings.py", platform)
    credit_part = snippet[snippet.index("CREDIT_SDK = {") :]
    settings += (
        "\nMIDDLEWARE.append('credit_sdk.adapters.django.CreditCheckMiddleware')\n"
        "ROOT_URLCONF = 'permits.urls'\nALLOWED_HOSTS = ['testserver']\n" + credit_part
    )
    settings_file.write_text(settings)
    return tmp


def test_csrf_in_a_startproject_layout(tmp_path: Path, sandbox: Any) -> None:  # noqa: F811
    project = _project(tmp_path / "site", sandbox)
    before = sandbox.admin.requests().get("reports:query", 0)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, raw("severe_list"), raw("clean"), raw("red_list")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    refused = out["api_refused"]
    assert refused["status"] == 403
    assert refused["type"] == "application/problem+json"
    assert json.loads(refused["body"])["type"] == "urn:credit-sdk:problem:credit-restricted"
    assert json.loads(out["api_clear"]["body"])["credit"] == "CLEAR"
    forged = out["form_no_token"]
    assert forged["status"] == 403
    assert forged["type"].startswith("text/html")  # Django's CSRF page, not a credit refusal
    assert "CSRF" in forged["body"]
    with_token = out["form_with_token"]
    assert with_token["status"] == 403
    assert with_token["type"] == "application/problem+json"  # now the credit check refused
    # The platform saw the two subjects of the API posts (the form with its token reused the
    # cached report); the forged post, about a third subject, was stopped before any query.
    assert sandbox.admin.requests().get("reports:query", 0) - before == 2
    for answer in out.values():
        assert raw("severe_list") not in answer["body"]
        assert raw("red_list") not in answer["body"]
