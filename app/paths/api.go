package paths

// The JSON API of the provider's own backends (issue #15, app/api) and the
// API key pages (the tenant's settings, the staff's).
const (
	APIBase                   = "/api/v1"
	APIOpenAPI                = "/api/v1/openapi.json"
	APIApps                   = "/api/v1/apps"
	APIAppPattern             = "/api/v1/apps/:appid"
	APIAppTokenPattern        = "/api/v1/apps/:appid/access-token"
	APIAppTokenInvalidPattern = "/api/v1/apps/:appid/access-token/invalid"
	APIComponentToken         = "/api/v1/component/access-token"
	APIAppConfigPattern       = "/api/v1/apps/:appid/config"
	APIAppReleasesPattern     = "/api/v1/apps/:appid/releases"
	APIAppReleasePattern      = "/api/v1/apps/:appid/releases/:rid"
	APICampaigns              = "/api/v1/campaigns"
	APICampaignPattern        = "/api/v1/campaigns/:cid"
	APICampaignPausePattern   = "/api/v1/campaigns/:cid/pause"
	APICampaignResumePattern  = "/api/v1/campaigns/:cid/resume"
	APICampaignCancelPattern  = "/api/v1/campaigns/:cid/cancel"
	APIWebhooks               = "/api/v1/webhooks"
	APIWebhookPattern         = "/api/v1/webhooks/:wid"
	APIWebhookDeliveries      = "/api/v1/webhooks/:wid/deliveries"
	APIWebhookReplayPattern   = "/api/v1/webhooks/:wid/deliveries/:did/replay"
	TenantAPIKeysPattern      = "/t/:tid/settings/api-keys"
	TenantAPIKeyRevokePattern = "/t/:tid/settings/api-keys/:kid/revoke"
	StaffAPIKeys              = "/staff/api-keys"
	StaffAPIKeyRevokePattern  = "/staff/api-keys/:kid/revoke"
)

// APIApp is one app of the API.
func APIApp(appid string) string { return fill(APIAppPattern, appid) }

// APIAppToken is an app's access token in the token service.
func APIAppToken(appid string) string { return fill(APIAppTokenPattern, appid) }

// APIRelease is one release of the API.
func APIRelease(appid string, rid int64) string { return fill(APIAppReleasePattern, appid, id(rid)) }

// APIWebhook is one event delivery endpoint of the API.
func APIWebhook(wid int64) string { return fill(APIWebhookPattern, id(wid)) }

// APICampaign is one campaign of the API.
func APICampaign(cid int64) string { return fill(APICampaignPattern, id(cid)) }

// TenantAPIKeys is the tenant's API keys page (settings).
func TenantAPIKeys(tid int64) string { return fill(TenantAPIKeysPattern, id(tid)) }

// TenantAPIKeyRevoke revokes one of the tenant's keys.
func TenantAPIKeyRevoke(tid, kid int64) string {
	return fill(TenantAPIKeyRevokePattern, id(tid), id(kid))
}

// StaffAPIKeyRevoke revokes a platform key.
func StaffAPIKeyRevoke(kid int64) string { return fill(StaffAPIKeyRevokePattern, id(kid)) }
