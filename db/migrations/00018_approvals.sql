-- +goose Up
-- Issue #13: who approves a tenant's releases. 'tenant': its own approvers
-- (owner, approver), as before. 'staff': the provider's staff approvers
-- (staff role approver or admin), so a merchant with one member can still
-- get an audit submitted; the two-person rule holds for them too.
ALTER TABLE tenants ADD COLUMN approvals TEXT NOT NULL DEFAULT 'tenant' CHECK (approvals IN ('tenant', 'staff'));

-- +goose Down
ALTER TABLE tenants DROP COLUMN approvals;
