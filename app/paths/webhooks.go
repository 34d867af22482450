package paths

// Event delivery (webhooks): a tenant's endpoints under its settings, the
// platform's under staff. Each builder takes the tenant id; 0 means the
// platform's (staff) page, so one view serves both scopes.
const (
	TenantWebhooksPattern      = "/t/:tid/settings/webhooks"
	TenantWebhookPattern       = "/t/:tid/settings/webhooks/:wid"
	TenantWebhookDeletePattern = "/t/:tid/settings/webhooks/:wid/delete"
	TenantWebhookResumePattern = "/t/:tid/settings/webhooks/:wid/resume"
	TenantWebhookRotatePattern = "/t/:tid/settings/webhooks/:wid/rotate"
	TenantWebhookReplayPattern = "/t/:tid/settings/webhooks/:wid/deliveries/:did/replay"

	StaffWebhooks             = "/staff/webhooks"
	StaffWebhookPattern       = "/staff/webhooks/:wid"
	StaffWebhookDeletePattern = "/staff/webhooks/:wid/delete"
	StaffWebhookResumePattern = "/staff/webhooks/:wid/resume"
	StaffWebhookRotatePattern = "/staff/webhooks/:wid/rotate"
	StaffWebhookReplayPattern = "/staff/webhooks/:wid/deliveries/:did/replay"

	// Metrics is the Prometheus scrape (bearer token, or its own listener).
	Metrics = "/metrics"
)

// Webhooks is the endpoint list (tid 0: the platform's).
func Webhooks(tid int64) string {
	if tid == 0 {
		return StaffWebhooks
	}
	return fill(TenantWebhooksPattern, id(tid))
}

// Webhook is one endpoint with its delivery log.
func Webhook(tid, wid int64) string {
	if tid == 0 {
		return fill(StaffWebhookPattern, id(wid))
	}
	return fill(TenantWebhookPattern, id(tid), id(wid))
}

// WebhookDelete removes an endpoint.
func WebhookDelete(tid, wid int64) string {
	if tid == 0 {
		return fill(StaffWebhookDeletePattern, id(wid))
	}
	return fill(TenantWebhookDeletePattern, id(tid), id(wid))
}

// WebhookResume resumes a paused endpoint.
func WebhookResume(tid, wid int64) string {
	if tid == 0 {
		return fill(StaffWebhookResumePattern, id(wid))
	}
	return fill(TenantWebhookResumePattern, id(tid), id(wid))
}

// WebhookRotate gives an endpoint a new signing secret.
func WebhookRotate(tid, wid int64) string {
	if tid == 0 {
		return fill(StaffWebhookRotatePattern, id(wid))
	}
	return fill(TenantWebhookRotatePattern, id(tid), id(wid))
}

// WebhookReplay sends a delivery's event again.
func WebhookReplay(tid, wid, did int64) string {
	if tid == 0 {
		return fill(StaffWebhookReplayPattern, id(wid), id(did))
	}
	return fill(TenantWebhookReplayPattern, id(tid), id(wid), id(did))
}
