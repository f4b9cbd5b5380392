"""The one writer of the shared URL map per process: claims are committed in groups, each group in one write.

Every invocation that needs the map changed submits its claim and waits. One of the waiting threads becomes
the writer: it takes every claim pending at that moment, reads the map, plans them all at once
(`shared.plan_url_map`), has Google validate the result, and patches it with the fingerprint it read. The
others wait for that write and take their result from it, with no read or write of their own. Across
processes (other function instances) the fingerprint decides: on a 412 the writer reads the map again and
plans again at once, with no backoff, since the loser's claims are still pending and the new map is the only
thing that changed. Why this design and not another: docs/decisions.md, "One URL-map writer".

Google's validation (`urlMaps.validate`) runs on every candidate that changes the map. When it refuses one,
the claims whose rules are new or changed are bisected (each step a validation of a candidate with half of
them held back) until the ones Google refuses are found; they are refused alone with Google's message, and
the rest are written. A patch Google refuses although validation passed is bisected the same way, with writes.
Only a refusal of the content is bisected (`InvalidRequest`: 400, and 413 `fieldSizeTooLarge` for a limit); any
other failure (403, a credentials problem) is the error it is. A map Google refuses even without any new rule
is not ours to refuse anyone for: the write fails with Google's message.

A permanent failure of a group's write is then about the map or runway's access to it, never about one claim (a
claim Google refuses is refused alone): each submitter gets it as `MapUnwritable`, a temporary error, so its
event is delivered again until the platform team fixes the grant or the map, as with a bad configuration.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from . import errors
from .api_compute import StaleObservation, get_url_map, patch_url_map, validate_url_map
from .clients import ComputeClients
from .model import Change, Claim, Kind, Op, RuleResult, RuleState, ServiceRef
from .plan_limits import Usage
from .plan_url_map import MapPlan, MapSettings, plan_url_map, precedence

MAX_WRITES = 12  # refused 412s in a row before giving up (Eventarc redelivers); each costs one read and one plan


@dataclass(frozen=True)
class Committed:
    """What a group commit did for the claims of one submitter."""

    results: Mapping[ServiceRef, RuleResult]
    change: Change | None = None  # the URL-map write that carried the group, None when nothing changed
    usage: Mapping[str, Usage] = field(default_factory=dict)
    refused_412: int = 0


class _MapChanged(Exception):
    """A bisection step that writes went through, or lost the fingerprint to another instance: plan again."""

    def __init__(self, *, conflict: bool) -> None:
        super().__init__("the URL map changed")
        self.conflict = conflict


class _FailsWithoutNewRules(Exception):
    """Google refuses the map even without any new or changed rule: no claim is to blame."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class MapUnwritable(errors.TemporaryError):
    """The group's write failed for a reason that is about the URL map or runway's access to it, not about any
    claim (403, a map Google refuses even without any new rule): retryable, so Eventarc delivers each claimant's
    event again (for up to 24 h) and the route is written once the platform team fixes it. Its cause is the
    permanent error itself; code, status, reason, method and resource are that error's."""

    @classmethod
    def of(cls, exc: errors.PermanentError) -> MapUnwritable:
        return cls(
            f"the URL map cannot be written for any route, retried until fixed: {exc.message}",
            code=exc.code,
            status=exc.status,
            reason=exc.reason,
            method=exc.method,
            resource=exc.resource,
        )


@dataclass(eq=False)
class _Waiter:
    """One submit waiting for the group write that carries its claims."""

    refs: tuple[ServiceRef, ...]
    outcome: Committed | BaseException | None = None


class UrlMapWriter:
    """Group commit of claims on one URL map, for every thread of this process."""

    def __init__(self, compute: ComputeClients, settings: MapSettings, *, validate: bool = True) -> None:
        self.compute = compute
        self.settings = settings
        self.validate = validate
        self._cv = threading.Condition()
        self._pending: dict[ServiceRef, Claim] = {}  # a service submitted twice before a write: its latest claim
        self._waiters: list[_Waiter] = []  # the submits whose claims are pending, each told its group's outcome
        self._busy = False

    def submit(self, claims: Iterable[Claim], *, dry_run: bool = False) -> Committed:
        """Commit these claims (with whatever else is pending) and return what became of them."""
        claims = list(claims)
        if dry_run or not claims:
            return self._commit(claims, dry_run=True) if claims else Committed({})
        waiter = _Waiter(tuple(claim.ref for claim in claims))
        with self._cv:
            self._pending.update((claim.ref, claim) for claim in claims)
            self._waiters.append(waiter)
        while True:
            with self._cv:
                while self._busy and waiter.outcome is None:
                    self._cv.wait()
                if waiter.outcome is not None:
                    break
                self._busy = True  # this thread writes the group, its own claims among them
                batch, self._pending = self._pending, {}
                waiters, self._waiters = self._waiters, []
            try:
                outcome: Committed | BaseException = self._commit(list(batch.values()), dry_run=False)
            except BaseException as exc:  # every claimant of the batch gets the failure, to log and retry
                outcome = exc
            with self._cv:
                for each in waiters:
                    each.outcome = outcome
                self._busy = False
                self._cv.notify_all()
        return self._collect(waiter)

    def commit_now(self, claims: Iterable[Claim], *, dry_run: bool = False) -> Committed:
        """Commit these claims alone, now, even none (the sweep: it is the only writer of its process, and with
        `upkeep` an empty commit still brings the matchers in line with configuration). A failure comes out as it
        is: the sweep answers non-2xx on any, and its schedule runs it again."""
        return self._commit(list(claims), dry_run=dry_run)

    @staticmethod
    def _collect(waiter: _Waiter) -> Committed:
        """The group's outcome for one submit: only the writer's and this submit's own references to it remain,
        so the writer keeps nothing of a group once its submitters have it. A permanent failure is about no one
        claim (see `MapUnwritable`)."""
        outcome, waiter.outcome = waiter.outcome, None
        if isinstance(outcome, errors.PermanentError):
            raise MapUnwritable.of(outcome) from outcome  # one of its own for each submitter
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        results = {ref: outcome.results[ref] for ref in waiter.refs}
        return Committed(results, outcome.change, outcome.usage, outcome.refused_412)

    # -- one write --------------------------------------------------------------------------------------------

    def _commit(self, claims: list[Claim], *, dry_run: bool) -> Committed:
        refused: dict[ServiceRef, str] = {}
        conflicts_412 = 0
        for _ in range(MAX_WRITES):
            url_map = get_url_map(self.compute, self.settings.project, self.settings.url_map)
            plan = plan_url_map(url_map, claims, self.settings, refused)
            # A dry run made none of the objects its new rules name: Google would refuse them as missing.
            if plan.changes and self.validate and not dry_run:
                refused.update(self._validated(url_map, claims, refused, plan))
                plan = plan_url_map(url_map, claims, self.settings, refused)
            if not plan.changes or dry_run:
                return self._committed(plan, conflicts_412)
            try:
                self._patch(url_map, plan)
            except errors.PreconditionFailed:
                conflicts_412 += 1  # another instance wrote first: our claims are still to do, on its map
                continue
            except errors.InvalidRequest as exc:  # Google refuses the content: find the rules it refuses
                try:
                    found = self._bisect(url_map, claims, refused, plan, self._writes(str(exc)))
                except _MapChanged as changed:
                    conflicts_412 += changed.conflict
                    continue  # part of the group is written, or another's write: plan the rest on the new map
                except _FailsWithoutNewRules:
                    found = {}
                if not found:
                    raise
                refused.update(found)
                continue
            return self._committed(plan, conflicts_412)
        raise errors.PreconditionFailed(
            f"the URL map kept changing: {MAX_WRITES} writes refused in a row",
            method="compute.urlMaps.patch",
            resource=f"projects/{self.settings.project}/global/urlMaps/{self.settings.url_map}",
        )

    def _committed(self, plan: MapPlan, refused_412: int) -> Committed:
        change = None
        if plan.changes:
            services = tuple(ref for ref, result in plan.results.items() if result.changed)
            change = Change(
                Op.UPDATE,
                Kind.URL_MAP,
                self.settings.url_map,
                self.settings.project,
                "; ".join(plan.notes),
                services,
                plan.body,
            )
        return Committed(plan.results, change, plan.usage, refused_412)

    def _patch(self, url_map: Mapping[str, object], plan: MapPlan) -> None:
        assert plan.body is not None
        try:
            patch_url_map(self.compute, self.settings.project, self.settings.url_map, plan.body, dict(url_map))
        except (errors.ResourceNotReady, errors.NotFound) as exc:
            raise StaleObservation(f"the URL map names something not ready or gone: {exc}") from exc

    # -- finding what Google refuses ----------------------------------------------------------------------------

    def _validated(
        self, url_map: Mapping[str, object], claims: list[Claim], refused: Mapping[ServiceRef, str], plan: MapPlan
    ) -> dict[ServiceRef, str]:
        """The claims Google's validation refuses; a map it refuses even without any new rule fails the write."""
        try:
            return self._bisect(url_map, claims, refused, plan, self._validation)
        except _FailsWithoutNewRules as failed:
            raise errors.InvalidRequest(
                "Google refuses the URL map even without any new or changed rule: " + "; ".join(failed.problems),
                method="compute.urlMaps.validate",
                resource=f"projects/{self.settings.project}/global/urlMaps/{self.settings.url_map}",
            ) from None

    def _validation(self, url_map: Mapping[str, object], plan: MapPlan | None) -> list[str]:
        """Google's problems with the candidate (with the map as read when `plan` is None)."""
        candidate = dict(url_map)
        if plan is not None:
            assert plan.body is not None
            candidate.update(hostRules=plan.body["hostRules"], pathMatchers=plan.body["pathMatchers"])
        return validate_url_map(self.compute, self.settings.project, self.settings.url_map, candidate)

    def _writes(self, first_error: str) -> Callable[[Mapping[str, object], MapPlan | None], list[str]]:
        """A probe that writes: for a patch Google refused although its validation passed. The map as read (no
        candidate) is validated, not written."""
        seen = [first_error]

        def probe(url_map: Mapping[str, object], plan: MapPlan | None) -> list[str]:
            if plan is None:
                return self._validation(url_map, None)
            if seen:
                return [seen.pop()]  # the candidate with every suspect is the one already refused
            try:
                self._patch(url_map, plan)
            except errors.InvalidRequest as exc:
                return [str(exc)]
            except errors.PreconditionFailed as exc:
                raise _MapChanged(conflict=True) from exc
            raise _MapChanged(conflict=False)

        return probe

    def _bisect(
        self,
        url_map: Mapping[str, object],
        claims: list[Claim],
        refused: Mapping[ServiceRef, str],
        plan: MapPlan,
        probe: Callable[[Mapping[str, object], MapPlan | None], list[str]],
    ) -> dict[ServiceRef, str]:
        """The claims Google refuses, each with its message; nothing when the whole candidate passes. Raises
        `_FailsWithoutNewRules` when the map fails even without any new rule (not ours to refuse anyone for: the
        write reports it). Without any new rule the map may not change at all: then the map as read is probed.

        In precedence order, the longest run of new or changed rules Google accepts is found by binary search (a
        probe per step); the rule that ends it is refused, and the search goes on after it. That covers both a rule
        Google refuses in itself and a limit the first rules use up (the later ones are refused, as runway's own
        limit check does)."""
        problems = probe(url_map, plan)
        if not problems:
            return {}
        order = {claim.ref: index for index, claim in enumerate(precedence(claims))}
        suspects = sorted(
            (ref for ref, r in plan.results.items() if r.state in (RuleState.ADDED, RuleState.CHANGED)),
            key=order.__getitem__,
        )

        def problems_with(allowed: Sequence[ServiceRef]) -> list[str]:
            held = {ref: "held back while Google's refusal is looked for" for ref in suspects if ref not in allowed}
            candidate = plan_url_map(url_map, claims, self.settings, {**refused, **held})
            return probe(url_map, candidate if candidate.changes else None)

        without = problems_with([]) if suspects else problems
        if without:
            raise _FailsWithoutNewRules(without)
        found: dict[ServiceRef, str] = {}
        accepted: list[ServiceRef] = []
        remaining = suspects
        while remaining and problems_with(accepted + remaining):
            low, high = 1, len(remaining)  # the shortest failing prefix has a length in [low, high]
            while low < high:
                middle = (low + high) // 2
                if problems_with(accepted + remaining[:middle]):
                    high = middle
                else:
                    low = middle + 1
            culprit = remaining[low - 1]
            problems = problems_with([*accepted, *remaining[: low - 1], culprit])
            found[culprit] = "Google refused the URL map with this rule: " + "; ".join(problems)
            accepted += remaining[: low - 1]
            remaining = remaining[low:]
        return found


_WRITERS: dict[tuple[int, str, str], UrlMapWriter] = {}
_WRITERS_LOCK = threading.Lock()


def writer_for(compute: ComputeClients, settings: MapSettings) -> UrlMapWriter:
    """The process's writer for this URL map (and this configuration of it)."""
    key = (id(compute), settings.project, settings.url_map)
    with _WRITERS_LOCK:
        writer = _WRITERS.get(key)
        if writer is None or writer.settings != settings:
            writer = _WRITERS[key] = UrlMapWriter(compute, settings)
        return writer
