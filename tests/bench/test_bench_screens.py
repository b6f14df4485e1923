"""The benches check every answer's content: bench/ussd_screens.py on the real screens (the
golden transcripts and the gateway's own message catalog), and ussd_bench's journey against a
local fake gateway over real HTTP that answers a queue screen, a repeat, or a changed repeat.
Nothing is timed."""
from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import ussd_bench  # noqa: E402
import ussd_screens  # noqa: E402
from ussd_screens import JOURNEY, check, check_voice  # noqa: E402

from gateway.flows import load_flows  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "testdata"
PINCODE_UNKNOWN = 8  # the golden USSD journey types an unknown PIN code once, at this answer


def golden(name: str) -> list[str]:
    """The answers of a golden transcript, as the bodies the gateway sent."""
    steps = json.loads((GOLDEN / name).read_text(encoding="utf-8"))["steps"]
    return ["\n".join(step["answer"]) for step in steps]


def bench_journey() -> list[str]:
    """The golden registration + booking, as the bench's 15 steps (without the detour)."""
    answers = golden("ussd_en.json")[:16]
    return answers[:PINCODE_UNKNOWN] + answers[PINCODE_UNKNOWN + 1:]


def message(key: str, **values) -> str:
    """A shared message in English, filled in by the gateway's own catalog."""
    return load_flows(ROOT / "gateway" / "ussd_menus").messages.text(key, "en", values)


def test_every_answer_of_the_golden_journey_is_the_screen_the_bench_expects():
    assert [check(body, expected) for body, expected in zip(bench_journey(), JOURNEY,
                                                            strict=True)] == [None] * 15


def test_a_wrong_screen_is_named_not_counted():
    answers = golden("ussd_en.json")
    assert check(answers[PINCODE_UNKNOWN], JOURNEY[PINCODE_UNKNOWN]) == \
        "wrong screen: registration.pincode_unknown"
    assert check(answers[16], JOURNEY[0]) == "wrong screen: main.booked_recently"
    assert check(bench_journey()[3], JOURNEY[4]) == "wrong screen: registration.birth_year"


@pytest.mark.parametrize("key,values,kind", [
    ("session.queued", {"position": 17}, "queued"),
    ("session.busy", {}, "busy"),
    ("session.rate_limited", {}, "rate limited"),
    ("session.try_again_later", {}, "try again"),
    ("session.error_end", {"helpline": "1075"}, "error screen"),
    ("session.too_many_invalid", {"helpline": "1075"}, "too many invalid answers"),
    ("session.resume", {}, "resume offered"),
])
def test_queue_busy_rate_limit_and_error_screens_are_errors_of_their_kind(key, values, kind):
    for step in (0, 3, 14):
        assert check("END " + message(key, **values), JOURNEY[step]) == kind


def test_an_invalid_choice_above_the_expected_prompt_is_an_error():
    expected = bench_journey()[4]  # CON Gender: ...
    body = "CON " + message("error.invalid_choice") + "\n" + expected[4:]
    assert check(body, JOURNEY[4]) == "invalid answer"


def test_end_early_and_a_booking_without_its_code_are_errors():
    booked = bench_journey()[14]
    assert check("CON" + booked[3:], JOURNEY[14]) == "no END"
    assert check("END" + bench_journey()[13][3:], JOURNEY[13]) == "END early"
    assert check(booked.replace("Code ", "Code ?"), JOURNEY[14]) == "booked without a code"


def test_ivr_answers_are_checked_by_what_they_say():
    answers = golden("ivr_en.json")
    assert check_voice(answers[0], JOURNEY[0]) is None
    assert check_voice(answers[15], JOURNEY[14]) is None  # "Booked! Your code is ..."
    assert check_voice(answers[PINCODE_UNKNOWN], JOURNEY[PINCODE_UNKNOWN]) == \
        "unexpected answer"
    sorry = message("voice.try_again_later")
    assert check_voice(f"<Response><Say>{sorry}</Say><Hangup/></Response>",
                       JOURNEY[14]) == "try again"


def test_every_text_the_classifier_needs_is_in_the_menus():
    found = ussd_screens.voice_patterns()
    assert set(ussd_screens.VOICE_PROBLEMS) <= set(found)
    assert {name for step in JOURNEY for name in step} <= set(ussd_screens.patterns())


def run_journeys(answer, count: int = 1, repeat_share: float = 0.0) -> ussd_bench.Stats:
    """``count`` bench journeys against a local server whose answer to the n-th request
    with history ``text`` is ``answer(step, text, n)``."""
    seen: Counter[str] = Counter()

    async def handle(request: web.Request) -> web.Response:
        text = (await request.post())["text"]
        seen[text] += 1
        step = 0 if text == "" else text.count("*") + 1
        return web.Response(text=answer(step, text, seen[text]))

    async def main() -> ussd_bench.Stats:
        app = web.Application()
        app.router.add_post("/ussd/africastalking", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        stats = ussd_bench.Stats(window_start=0.0, deadline=float("inf"))
        callers = ussd_bench.Callers(["800020"])
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(count):
                    await ussd_bench.journey(http, f"http://127.0.0.1:{port}/ussd/africastalking",
                                             callers, stats, repeat_share=repeat_share)
        finally:
            await runner.cleanup()
        return stats

    return asyncio.run(main())


def test_a_journey_of_right_answers_counts_every_step_and_one_journey():
    screens = bench_journey()
    stats = run_journeys(lambda step, text, n: screens[step])
    assert (len(stats.latencies), stats.journeys, stats.errors) == (15, 1, {})


def test_a_queue_screen_mid_journey_is_an_error_not_a_step():
    screens = bench_journey()
    queued = "END " + message("session.queued", position=3)
    stats = run_journeys(lambda step, text, n: queued if step == 5 else screens[step])
    assert (len(stats.latencies), stats.journeys, stats.errors) == (5, 0, {"queued": 1})


def test_repeats_are_counted_apart_from_the_steps():
    screens = bench_journey()
    stats = run_journeys(lambda step, text, n: screens[step], repeat_share=1.0)
    assert (len(stats.latencies), len(stats.repeat_latencies)) == (15, 14)  # not the END
    assert (stats.journeys, stats.errors) == (1, {})
    figures = ussd_bench.summarize(stats, seconds=1.0)
    assert (figures["steps"], figures["repeats"]) == (15, 14)


def test_a_repeat_that_did_the_step_again_is_an_error():
    screens = bench_journey()
    stats = run_journeys(lambda step, text, n: screens[min(step + n - 1, 14)], repeat_share=1.0)
    assert stats.errors == {"repeat differs": 1}
    assert (len(stats.latencies), len(stats.repeat_latencies), stats.journeys) == (1, 0, 0)
