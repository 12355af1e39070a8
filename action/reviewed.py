"""Find the plan that was reviewed for a merge commit: the pull request's plan run and artifact.

On a push to the default branch, the merge commit's pull request is looked up, and the
newest successful run of the plan workflow for that pull request's head commit is the one
whose `plan.json` artifact was reviewed. The merge commit's tree must be the head's tree
(branch protection "require branches to be up to date" makes it so); otherwise what was
merged is not what was planned, and nothing is applied.
"""

from __future__ import annotations

from dataclasses import dataclass

from ghapi import GitHub, GitHubError


class NoReviewedPlan(Exception):
    pass


@dataclass
class ReviewedPlan:
    pull_request: int
    head_sha: str
    run_id: int
    artifact: str


def find(github: GitHub, sha: str, workflow: str, artifact_prefix: str) -> ReviewedPlan:
    pulls = github.request("GET", f"/commits/{sha}/pulls") or []
    merged = [p for p in pulls if p.get("merge_commit_sha") == sha] or [p for p in pulls if p.get("merged_at")]
    if not merged:
        raise NoReviewedPlan(f"commit {sha[:12]} was not merged from a pull request, so no plan was reviewed "
                             "for it; run the apply workflow by hand to re-plan")
    pull = merged[0]
    number, head = int(pull["number"]), str(pull["head"]["sha"])
    merged_tree = github.request("GET", f"/git/commits/{sha}")["tree"]["sha"]
    head_tree = github.request("GET", f"/git/commits/{head}")["tree"]["sha"]
    if merged_tree != head_tree:
        raise NoReviewedPlan(f"the merge of #{number} is not the commit that was planned ({head[:12]}): the "
                             "branch was behind; require branches to be up to date before merging, or run the "
                             "apply workflow by hand to re-plan")
    try:
        runs = github.request("GET", f"/actions/workflows/{workflow}/runs",
                              query={"head_sha": head, "status": "success", "event": "pull_request"})
    except GitHubError as error:
        raise NoReviewedPlan(f"cannot list the runs of {workflow}: {error}") from None
    found = sorted(runs.get("workflow_runs") or [], key=lambda r: str(r.get("created_at", "")), reverse=True)
    if not found:
        raise NoReviewedPlan(f"no successful {workflow} run for #{number} at {head[:12]}: nothing reviewed to apply")
    return ReviewedPlan(number, head, int(found[0]["id"]), f"{artifact_prefix}{number}")
