"""The signal pair: a share's async receivers record an Activity row and send an
email; their answers are the response, a failing one a 502."""

import json
import socket

from django.core import mail
from django.test import TestCase, override_settings

from project.settings import smtp_settings
from tests.factories import make_topic
from tests.twins import prefixes
from topics.api import INVALID, METHOD_NOT_ALLOWED, NOT_FOUND
from topics.models import Activity
from topics.signals import SHARED
from topics.views.signals import RECEIVER_FAILED, RECIPIENT_REQUIRED

READER = "reader@example.com"


def closed_port() -> int:
    """A local TCP port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TopicShareTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_topic(slug="shared", title="Async signals", body="asend() awaits them.")

    async def share(self, prefix: str, data, slug: str = "shared"):
        return await self.async_client.post(
            f"/{prefix}/share/{slug}/",
            json.dumps(data),
            content_type="application/json",
        )

    async def test_the_receivers_record_and_send(self):
        """Each share adds an Activity row and sends one email (Django's locmem
        backend in tests); the response carries both receivers' answers."""
        for number, prefix in enumerate(prefixes("topic_share"), start=1):
            with self.subTest(twin=prefix):
                response = await self.share(prefix, {"to": READER})

                self.assertEqual(response.status_code, 200)
                self.assertEqual(
                    response.json(),
                    {
                        "topic": "shared",
                        "to": READER,
                        "shares": number,
                        "emails_sent": 1,
                    },
                )
                self.assertEqual(
                    await Activity.objects.filter(
                        topic__slug="shared", verb=SHARED
                    ).acount(),
                    number,
                )
                self.assertEqual(len(mail.outbox), number)
                message = mail.outbox[-1]
                self.assertEqual(message.to, [READER])
                self.assertEqual(message.subject, "Shared with you: Async signals")
                self.assertIn("asend() awaits them.", message.body)

    async def test_bad_requests_share_nothing(self):
        """A bad address or none: 400; unknown topic 404; GET 405; no row, no mail."""
        for prefix in prefixes("topic_share"):
            with self.subTest(twin=prefix):
                bad = await self.share(prefix, {"to": "not an address"})
                missing = await self.share(prefix, {})
                unknown = await self.share(prefix, {"to": READER}, slug="nope")
                get = await self.async_client.get(f"/{prefix}/share/shared/")

                self.assertEqual(bad.status_code, 400)
                self.assertEqual(bad.json()["error"]["code"], INVALID)
                self.assertEqual(
                    bad.json()["error"]["fields"],
                    {"to": ["Enter a valid email address."]},
                )
                self.assertEqual(
                    missing.json()["error"]["fields"], {"to": [RECIPIENT_REQUIRED]}
                )
                self.assertEqual(unknown.status_code, 404)
                self.assertEqual(unknown.json()["error"]["code"], NOT_FOUND)
                self.assertEqual(get.status_code, 405)
                self.assertEqual(get.json()["error"]["code"], METHOD_NOT_ALLOWED)
        self.assertIs(await Activity.objects.aexists(), False)
        self.assertEqual(mail.outbox, [])

    async def test_a_failing_receiver_is_a_502(self):
        """The mail server refuses the connection: *_robust() hands the error back
        as email_share's answer, 502 names it; record_share still ran."""
        smtp = smtp_settings(host="127.0.0.1", port=closed_port(), timeout=5)
        for number, prefix in enumerate(prefixes("topic_share"), start=1):
            with self.subTest(twin=prefix), override_settings(**smtp):
                with self.assertLogs("django.dispatch", "ERROR") as logs:
                    response = await self.share(prefix, {"to": READER})

                self.assertEqual(response.status_code, 502)
                error = response.json()["error"]
                self.assertEqual(error["code"], RECEIVER_FAILED)
                self.assertEqual(error["receivers"], ["email_share"])
                self.assertIn("ConnectionRefusedError", "\n".join(logs.output))
                self.assertEqual(await Activity.objects.acount(), number)
