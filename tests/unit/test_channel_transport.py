"""The channels' one retry policy: a throttled call is sent again after the wait it names,
only while that fits the attempt's budget, at most MAX_THROTTLE_WAITS times; nothing
else is repeated."""

from __future__ import annotations

import pytest

from tests.unit.test_facebook_publisher import Timer, attempt
from warta.channels.api import MAX_THROTTLE_WAITS, throttle_retrying
from warta.channels.base import ChannelAuthError, ChannelError


def calls_raising(*errors):
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "posted"

    return call, calls


def test_a_throttle_is_waited_out_as_told():
    timer = Timer()
    call, calls = calls_raising(ChannelError("busy", retry_after=30), ChannelError("busy", retry_after=60))
    assert throttle_retrying(attempt(timer), "x: posting")(call) == "posted"
    assert timer.slept == [30, 60] and len(calls) == 3


def test_a_wait_beyond_the_budget_is_not_taken():
    timer = Timer()
    call, calls = calls_raising(ChannelError("busy", retry_after=900))
    with pytest.raises(ChannelError, match="busy"):
        throttle_retrying(attempt(timer, budget=600), "x: posting")(call)
    assert timer.slept == [] and len(calls) == 1


@pytest.mark.parametrize("error", [ChannelError("5xx", retry_after=None), ChannelError("no", retryable=False),
                                   ChannelAuthError("token")], ids=["no-wait-named", "not-retryable", "auth"])
def test_other_failures_are_not_repeated(error):
    timer = Timer()
    call, calls = calls_raising(error)
    with pytest.raises(ChannelError):
        throttle_retrying(attempt(timer), "x: posting")(call)
    assert timer.slept == [] and len(calls) == 1


def test_a_channel_that_stays_throttled_is_given_up():
    timer = Timer()
    call, calls = calls_raising(*[ChannelError("busy", retry_after=1)] * 10)
    with pytest.raises(ChannelError, match=f"x: posting: still throttled after {MAX_THROTTLE_WAITS} waits"):
        throttle_retrying(attempt(timer), "x: posting")(call)
    assert len(timer.slept) == MAX_THROTTLE_WAITS and len(calls) == MAX_THROTTLE_WAITS + 1
