"""E-mail for the demo and development: every message is its own .eml file.

Django's file backend names a file per connection (second + object id) and
appends to it, so messages sent within one second can share a file, and its
`.log` files open in no mail program. Here each message gets a new file
whose name sorts by the moment it was written, so the newest one is the
last in the folder and opens in any mail program."""

import itertools
import os
import re
import threading
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

_counter = itertools.count(1)
_lock = threading.Lock()


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *args, file_path: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                self._write(message)
            except OSError:
                if not self.fail_silently:
                    raise
            else:
                sent += 1
        return sent

    def _write(self, message: EmailMessage) -> None:
        data = message.message().as_bytes(linesep="\n")
        with _lock:
            number = next(_counter)
        # Time to the microsecond, then process and a counter: sortable, and
        # unique even for two workers writing in the same microsecond.
        moment = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        recipient = re.sub(r"[^A-Za-z0-9@._-]", "_", message.recipients()[0])[:60]
        name = f"{moment}-{os.getpid()}-{number:04d}-{recipient}.eml"
        # Written under a hidden name and renamed: whoever opens the folder
        # never sees half a message.
        partial = self.directory / f".{name}.part"
        partial.write_bytes(data)
        partial.rename(self.directory / name)
