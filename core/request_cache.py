"""Facts read once per request: a dictionary that lives exactly as long as
the request being answered (RequestCacheMiddleware), empty for the next.

For small lookups that several parts of one page need — the member's flats
for the visibility rule, say, which the badge, the list and the request
itself all filter by. Outside a request (tasks, the shell, tests calling a
function directly) nothing is kept, so code that changes data and reads it
again there always sees the change. Within a request a value stays as first
read: use it only for facts a page does not change itself."""

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_store: ContextVar[dict | None] = ContextVar("genoportal_request_cache", default=None)


def request_cached(key: Hashable, compute: Callable[[], T]) -> T:
    store = _store.get()
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    return store[key]


class RequestCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _store.set({})
        try:
            return self.get_response(request)
        finally:
            _store.reset(token)


@contextmanager
def request_scope() -> Iterator[None]:
    """The same scope for work that is not a web request but should read
    its facts once like one: one incoming e-mail (mailroom), which files a
    request just as the portal does. A scope inside another is the outer
    one: the outer unit of work (a mailbox run's batch of messages) decides
    how long a fact is kept."""
    if _store.get() is not None:
        yield
        return
    token = _store.set({})
    try:
        yield
    finally:
        _store.reset(token)
