"""A related manager evaluated in async code (for f in agent.files.all()): its
level follows what the function shows about where the owner was loaded."""

import textwrap
from unittest import TestCase

from topics.audit.code import scan_source
from topics.audit.findings import Finding


def scan(source: str) -> list[Finding]:
    return scan_source(textwrap.dedent(source), "snippet.py")


def levels(findings: list[Finding]) -> list[tuple[int, str]]:
    """(line, level) of each finding, sorted."""
    return sorted((int(f.location.rpartition(":")[2]), f.level) for f in findings)


class OwnerLoadedHereTests(TestCase):
    def test_loaded_without_prefetching_the_relation_is_a_warning(self):
        """It will query, sure: a SynchronousOnlyOperation, which
        --fail-level warning must catch."""
        findings = scan(
            """
            from django.shortcuts import aget_object_or_404

            async def by_key(pk):
                agent = await Agent.objects.aget(pk=pk)
                names = [f.name for f in agent.files.all()]
                files = agent.files.all()
                return names, [f.name for f in files], agent.files.all().count()

            async def in_a_loop():
                async for agent in Agent.objects.filter(active=True):
                    print(len(agent.files.all()))

            async def from_a_list():
                agents = [a async for a in Agent.objects.filter(active=True)]
                for agent in agents:
                    print(list(agent.files.all()))

            async def by_shortcut(pk):
                agent = await aget_object_or_404(Agent, pk=pk)
                return bool(agent.files.all())

            async def other_prefetches(pk):
                agent = await (
                    Agent.objects.select_related("files")
                    .prefetch_related("tags", Prefetch("files", to_attr="recent"))
                    .afirst()
                )
                return [f for f in agent.files.all()]
            """
        )

        self.assertEqual(
            levels(findings),
            [
                (6, "warning"),
                (8, "warning"),
                (8, "warning"),
                (12, "warning"),
                (17, "warning"),
                (21, "warning"),
                (29, "warning"),
            ],
        )
        for finding in findings:
            self.assertIn(
                "agent is loaded here without prefetch_related('files')",
                finding.message,
            )
            self.assertIn("Add .prefetch_related('files')", finding.fix)

    def test_loaded_with_the_relation_prefetched_is_not_reported(self):
        """The rows are there; what queries whatever was prefetched (filter(),
        first(), Model.objects) is still reported."""
        findings = scan(
            """
            from django.db.models import Prefetch

            async def named(pk):
                agent = await Agent.objects.prefetch_related("files").aget(pk=pk)
                files = agent.files.all()
                return [f for f in files], files.count(), len(agent.files.all())

            async def with_a_prefetch_object(pk):
                agent = await Agent.objects.prefetch_related(
                    Prefetch("files", queryset=File.objects.filter(live=True))
                ).aget(pk=pk)
                return [f for f in agent.files.all()]

            async def deeper(pk):
                agent = await Agent.objects.prefetch_related("files__owner").alast()
                return [f.owner for f in agent.files.all()]

            async def through_a_queryset_name():
                agents = Agent.objects.prefetch_related("files")
                async for agent in agents.filter(active=True):
                    print([f for f in agent.files.all()])
                rows = [a async for a in agents]
                for agent in rows:
                    print([f for f in agent.files.all()])

            async def still_queries(pk):
                agent = await Agent.objects.prefetch_related("files").aget(pk=pk)
                first = agent.files.all().first()
                recent = [f for f in agent.files.all().filter(new=True)]
                return first, recent, [a for a in Agent.objects.all()]
            """
        )

        self.assertEqual(
            levels(findings), [(29, "warning"), (30, "warning"), (31, "error")]
        )


class OwnerFromElsewhereTests(TestCase):
    def test_an_owner_the_function_cannot_trace_is_info(self):
        """A parameter, a helper's result, an attribute, a name bound both ways:
        free if whoever loaded it prefetched the relation."""
        findings = scan(
            """
            async def parameter(agent):
                return [f for f in agent.files.all()]

            async def helper_result():
                agent = await load_agent()
                files = agent.files.all()
                return [f for f in files], files.exists()

            async def attribute(self):
                return [f for f in self.agent.files.all()]

            async def bound_both_ways(pk, agent=None):
                if agent is None:
                    agent = await Agent.objects.aget(pk=pk)
                return [f for f in agent.files.all()]

            async def prefetched_or_not(pk, flag):
                if flag:
                    agent = await Agent.objects.prefetch_related("files").aget(pk=pk)
                else:
                    agent = await Agent.objects.aget(pk=pk)
                return [f for f in agent.files.all()]

            async def unknown_lookups(pk, lookups):
                agent = await Agent.objects.prefetch_related(*lookups).aget(pk=pk)
                return [f for f in agent.files.all()]

            async def sure(agent):
                return [a for a in Agent.objects.all()]
            """
        )

        self.assertEqual(
            levels(findings),
            [
                (3, "info"),
                (8, "info"),
                (8, "info"),
                (11, "info"),
                (16, "info"),
                (23, "info"),
                (27, "info"),
                (30, "error"),
            ],
        )
        info = findings[0]
        self.assertEqual(info.code, "code.sync-orm")
        self.assertIn(
            "unless the relation was prefetched where agent was loaded", info.message
        )
        self.assertIn("prefetch_related('files') where agent is loaded", info.fix)
        self.assertIn("aprefetch_related_objects([agent], 'files')", info.fix)

    def test_agents_from_another_modules_helper_is_info(self):
        """The real case: the helper prefetched fileobject_set, out of sight."""
        findings = scan(
            """
            async def all_agents(request):
                agents = await AgentAdapters.aget_all_accessible_agents(request.user)
                for agent in agents:
                    files = agent.fileobject_set.all()
                    names = [f.file_name for f in files]
            """
        )

        self.assertEqual(
            [(f.location, f.level) for f in findings if "Iterating" in f.message],
            [("snippet.py:6", "info")],
        )
