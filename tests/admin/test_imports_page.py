"""The Imports page: an upload becomes a background job with progress; its result lists
every problem of every refused row in plain words; a form sent twice starts one job."""
from __future__ import annotations

import io
import re

import pytest
from rq import Queue, SimpleWorker

from gateway.admin import import_jobs
from gateway.sms.context import install
from gateway.sms.dispatch import SmsContext

pytestmark = pytest.mark.usefixtures("demo_centers")

SLOTS = ("center_code,date,start_time,end_time,age_group,vaccine,capacity\n"
         "{code},2030-01-10,09:00,11:00,45+,covishield,20\n"
         "{code},2030-01-11,9 am,11:00,45+,covishield,lots\n")
PEOPLE = ("name,birth_year,gender,phone,pincode\nSita Devi,1950,F,9812345678,800020\n"
          "Ram Lal,1950,X,12,8000\n")


class QuietWorker(SimpleWorker):
    """RQ's SimpleWorker without its command channel (pub/sub), whose thread can take a
    minute to stop when jobs of this process used the same Redis client."""

    def subscribe(self) -> None:
        return None

    def unsubscribe(self) -> None:
        return None


@pytest.fixture
def worker(settings, db, redis_client):
    """Runs the queued imports in this process, as `vaxgate worker` would."""
    install(SmsContext.build(settings, db, redis_client, redis_client))

    def work() -> None:
        QuietWorker([Queue("bulk", connection=redis_client)],
                    connection=redis_client).work(burst=True)
    yield work
    install(None)


def _upload(auth, client, kind: str, text: str, token: str = "form-1"):
    return auth.post("/admin/imports", {"kind": kind, "token": token,
                                        "file": (io.BytesIO(text.encode()), "list.csv")},
                     content_type="multipart/form-data")


def _patna_code(client) -> str:
    page = client.get("/admin/centers").get_data(as_text=True)
    return re.search(r"<code>(DEMO\d+)</code>|>(DEMO\d+)<", page).group(1) or "DEMO001"


def test_a_slots_file_with_errors_lists_every_problem_and_imports_nothing(auth, client,
                                                                          worker):
    auth.login("patna")
    code = _patna_code(client)
    started = _upload(auth, client, "slots", SLOTS.format(code=code))
    assert started.status_code == 303
    job_page = started.headers["Location"]
    waiting = client.get(job_page).get_data(as_text=True)
    assert "<progress" in waiting and "Waiting for a worker" in waiting
    again = _upload(auth, client, "slots", SLOTS.format(code=code))  # a double click
    assert again.headers["Location"] == job_page
    worker()
    done = client.get(job_page).get_data(as_text=True)
    assert "Nothing was imported" in done
    assert "Row 3: start time: must be a time like 09:00; capacity: must be a whole number" \
        in done
    assert client.get(job_page + "/progress").get_json()["percent"] == 100


def test_paper_registrations_keep_good_rows_and_name_each_problem(auth, client, worker):
    auth.login()
    job_page = _upload(auth, client, "registrations", PEOPLE).headers["Location"]
    worker()
    done = client.get(job_page).get_data(as_text=True)
    assert "1 people registered" in done
    assert ("Row 3: gender: &#39;X&#39; is not M, F or O; phone number: &#39;12&#39; is not "
            "a mobile number; PIN code: &#39;8000&#39; is not 6 digits starting 1-9") in done


def test_district_users_do_not_import_registrations_or_see_others_imports(auth, client,
                                                                          worker):
    auth.login("patna")
    assert "paper registrations" not in client.get("/admin/imports").get_data(True)
    assert _upload(auth, client, "registrations", PEOPLE).status_code == 403
    job_page = _upload(auth, client, "slots", "center_code\n").headers["Location"]
    auth.login("lucknow")
    assert client.get(job_page).status_code == 404
    assert _upload(auth, client, "slots", "", token="form-2").status_code == 400


def test_plain_words_for_the_validation_messages_of_centers():
    problem = ("row 4: pincode: String should match pattern '^[1-9]\\d{6}$'; "
               "code: Field required")
    assert import_jobs.plain_problem(problem) == \
        "Row 4: PIN code: has characters that are not allowed; center code: is missing"
