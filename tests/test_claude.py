"""The Claude cross-check: the real anthropic client against a loopback fake of the Messages API."""
from __future__ import annotations

import json
import logging
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st
from sqlalchemy import select

from intelligence.sentiment.crosscheck import REPLY_SCHEMA, LlmVerdict, ReplyError, blend, parse_reply
from intelligence.types import Polarity
from providers.claude import PROMPT_VERSION, SYSTEM_PROMPT, ClaudeConfig, ClaudeError, ClaudePolarity
from tests.fake_anthropic import KEY, Fault, FakeMessagesApi, keyword_rater

# Real headlines from the embedded feeds (providers/embedded/feeds).
HEADLINES = [
    "Bitcoin Plunges Below $90K as AI Worries Drag Nasdaq, Crypto Stocks Down",
    "CoinDesk 20 Performance Update: SUI Gains 5.2%, Leading the Index Higher",
    "Moody’s proposes stablecoin ratings framework focused on reserve quality",
]


@pytest.fixture
def api():
    fake = FakeMessagesApi().start()
    yield fake
    fake.stop()


def client(api: FakeMessagesApi, timeout: float = 5.0, retries: int = 0, key: str = KEY) -> ClaudePolarity:
    return ClaudePolarity(ClaudeConfig(api_key=key, base_url=api.url, timeout=timeout, max_retries=retries))


def test_rates_each_headline_in_order(api: FakeMessagesApi) -> None:
    verdicts = client(api).rate(HEADLINES)
    assert verdicts == [LlmVerdict(**keyword_rater(h)) for h in HEADLINES]
    assert [v.label for v in verdicts] == ["negative", "positive", "neutral"]
    [request] = api.requests
    assert request["system"] == SYSTEM_PROMPT and request["model"] == "claude-haiku-4-5"
    assert request["output_config"] == {"format": {"type": "json_schema", "schema": REPLY_SCHEMA}}
    # Headlines travel as JSON data with short ids, never spliced into the instructions.
    assert json.loads(request["messages"][0]["content"]) == [
        {"id": f"h{i}", "headline": h} for i, h in enumerate(HEADLINES, 1)
    ]
    sent = api.headers[0]
    assert sent.get("x-api-key") == KEY or sent.get("Authorization") == f"Bearer {KEY}"


def test_nothing_to_rate_makes_no_request(api: FakeMessagesApi) -> None:
    assert client(api).rate([]) == []
    assert api.requests == []


def test_llm_id_names_model_and_prompt(api: FakeMessagesApi) -> None:
    assert client(api).llm_id == f"claude-haiku-4-5;{PROMPT_VERSION}"


def _drop_last(reply: dict) -> dict:
    return {"items": reply["items"][:-1]}


def _with(**changes):
    def edit(reply: dict) -> dict:
        first = {**reply["items"][0], **changes}
        return {"items": [first, *reply["items"][1:]]}
    return edit


FAULTS = [
    (Fault(status=500), r"HTTP 500 \(api_error\)"),
    (Fault(status=529), r"HTTP 529 \(overloaded_error\)"),
    (Fault(status=429), r"HTTP 429 \(rate_limit_error\)"),
    (Fault(status=400), r"HTTP 400 \(invalid_request_error\)"),
    (Fault(delay=1.5), r"no answer within 0.5 s"),
    (Fault(text='{"items": [{"id": "h1", "label": "pos'), r"not valid JSON"),
    (Fault(text="Sure! Here is the rating you asked for."), r"not valid JSON"),
    (Fault(raw_body=b"<html>502 Bad Gateway</html>"), r"call failed \(JSONDecodeError\)"),
    (Fault(reply=[1, 2, 3]), r"off schema: the reply must be an object"),
    (Fault(reply={"items": [], "note": "x"}), r"off schema: the reply must be an object"),
    (Fault(edit=_drop_last), r"off schema: the reply lacks 1 of the 3"),
    (Fault(edit=lambda r: {"items": r["items"] + r["items"][:1]}), r"off schema: item 3 repeats an id"),
    (Fault(edit=_with(id="h9")), r"off schema: item 0 has an id that was not asked about"),
    (Fault(edit=_with(label="bullish")), r"off schema: item 0 has a label outside"),
    (Fault(edit=_with(polarity=1.5)), r"off schema: item 0 has a polarity that is not a number"),
    (Fault(edit=_with(polarity="-0.7")), r"off schema: item 0 has a polarity that is not a number"),
    (Fault(edit=_with(polarity=True)), r"off schema: item 0 has a polarity that is not a number"),
    (Fault(edit=_with(label="positive")), r"off schema: item 0 has a label that contradicts"),
    (Fault(edit=_with(why="because")), r"off schema: item 0 must have exactly the keys"),
    (Fault(stop_reason="max_tokens"), r"cut off at the token limit"),
    (Fault(stop_reason="refusal"), r"declined"),
    (Fault(blocks=2), r"2 text blocks, expected exactly one"),
]


@pytest.mark.parametrize(("fault", "cause"), FAULTS, ids=[cause.split(":")[-1][:30] for _, cause in FAULTS])
def test_every_failure_is_one_clear_error_without_the_key(api: FakeMessagesApi, fault: Fault, cause: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    api.faults.append(fault)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ClaudeError, match=cause) as caught:
        client(api, timeout=0.5).rate(HEADLINES)
    assert KEY not in str(caught.value) and "\n" not in str(caught.value)
    # No SDK exception chained in: its message may quote the request.
    assert caught.value.__cause__ is None and (caught.value.__context__ is None or caught.value.__suppress_context__)
    assert KEY not in caplog.text


def test_a_wrong_key_is_an_authentication_error_that_does_not_repeat_the_key(api: FakeMessagesApi) -> None:
    with pytest.raises(ClaudeError, match=r"HTTP 401 \(authentication_error\)") as caught:
        client(api, key="sk-ant-wrong-key-123").rate(HEADLINES)
    assert "sk-ant-wrong-key-123" not in str(caught.value)


def test_a_closed_port_is_a_connection_error(api: FakeMessagesApi) -> None:
    rater = client(api)
    api.stop()
    with pytest.raises(ClaudeError, match="could not connect"):
        rater.rate(HEADLINES)


def test_one_retry_absorbs_a_blip(api: FakeMessagesApi) -> None:
    api.faults.append(Fault(status=529))
    assert len(client(api, retries=1).rate(HEADLINES)) == 3
    assert len(api.requests) == 2


def test_the_key_is_not_in_the_config_repr() -> None:
    assert KEY not in repr(ClaudeConfig(api_key=KEY))
    with pytest.raises(ValueError, match="empty"):
        ClaudeConfig(api_key="  ")


# --- the pure half: schema and blend -------------------------------------------------------------


def test_parse_reply_accepts_exactly_the_agreed_shape() -> None:
    reply = {"items": [{"id": "h2", "label": "neutral", "polarity": 0}, {"id": "h1", "label": "negative", "polarity": -1}]}
    assert parse_reply(reply, ["h1", "h2"]) == {"h1": LlmVerdict("negative", -1.0), "h2": LlmVerdict("neutral", 0.0)}
    for broken in (None, {"items": None}, {"items": [None]}, {"items": [{"id": 1, "label": "neutral", "polarity": 0}]},
                   {"items": [{"id": "h1", "label": "neutral", "polarity": float("nan")}]}):
        with pytest.raises(ReplyError):
            parse_reply(broken, ["h1"])


verdicts = st.builds(
    lambda p: LlmVerdict("positive" if p > 0 else "negative" if p < 0 else "neutral", p),
    st.floats(-1, 1, allow_nan=False),
)
polarities = st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)).filter(lambda t: sum(t) > 1e-6).map(
    lambda t: Polarity(*(v / sum(t) for v in t))
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(polarities, verdicts, st.floats(0, 1))
def test_blend_is_a_distribution_whose_score_blends_linearly(model: Polarity, verdict: LlmVerdict, weight: float) -> None:
    mixed = blend(model, verdict, weight)
    values = (mixed.positive, mixed.negative, mixed.neutral)
    assert all(-1e-12 <= v <= 1 + 1e-12 for v in values) and sum(values) == pytest.approx(1.0)
    assert mixed.score == pytest.approx((1 - weight) * model.score + weight * verdict.polarity, abs=1e-9)
    assert min(model.score, verdict.polarity) - 1e-9 <= mixed.score <= max(model.score, verdict.polarity) + 1e-9


def test_weight_zero_leaves_the_model_alone_and_out_of_range_is_refused() -> None:
    model = Polarity(0.2, 0.5, 0.3)
    assert blend(model, LlmVerdict("positive", 0.9), 0.0) == model
    with pytest.raises(ValueError):
        blend(model, LlmVerdict("positive", 0.9), 1.5)


def test_timeout_is_bounded(api: FakeMessagesApi) -> None:
    import time

    api.faults.append(Fault(delay=3.0))
    started = time.perf_counter()
    with pytest.raises(ClaudeError):
        client(api, timeout=0.3).rate(HEADLINES[:1])
    assert time.perf_counter() - started < 2.0
