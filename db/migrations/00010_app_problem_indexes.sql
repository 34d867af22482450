-- +goose Up
-- The staff apps list's problem filters (needs re-authorization; any
-- problem) as partial indexes in the list's order, covering their own
-- conditions: counting them reads ~a tenth of the fleet from a small index
-- instead of every authorized app's row, and a page walks them backwards
-- (docs/benchmarks.md, "Onboarding"). The WHERE clauses are word for word
-- those of store.StaffApps (condNeedsReauth, condProblems), which names
-- these indexes with INDEXED BY.

CREATE INDEX authorizers_needs_reauth ON authorizers (updated_at, appid, status, reauth_reason, token_state)
WHERE status = 'authorized' AND (reauth_reason != '' OR token_state = 'needs_reauth');

CREATE INDEX authorizers_problems ON authorizers (updated_at, appid, status, reauth_reason, token_state)
WHERE status = 'authorized' AND (reauth_reason != '' OR token_state IN ('needs_reauth', 'failing'));

-- +goose Down
DROP INDEX authorizers_problems;
DROP INDEX authorizers_needs_reauth;
