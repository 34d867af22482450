package authz

// The named permissions: one value for every (object, action) that
// policy.csv grants, used by the route table (app/web/routes.go) and by
// handlers and the nav wherever a page asks what its viewer may do.
// TestNamedPermissionsMatchThePolicy keeps this list and policy.csv equal.
var (
	PermTenantRead  = Perm{Obj: "tenant", Act: "read"}
	PermTenantWrite = Perm{Obj: "tenant", Act: "write"}

	PermMembersRead  = Perm{Obj: "members", Act: "read"}
	PermMembersWrite = Perm{Obj: "members", Act: "write"}

	PermActivityRead = Perm{Obj: "activity", Act: "read"}

	PermAppsRead      = Perm{Obj: "apps", Act: "read"}
	PermAppsAuthorize = Perm{Obj: "apps", Act: "authorize"}
	PermAppsAssign    = Perm{Obj: "apps", Act: "assign"}

	PermConfigWrite = Perm{Obj: "config", Act: "write"}

	// PermLinksWrite makes URL Schemes, URL Links, Short Links and 小程序码
	// of released apps; PermDomainsWrite changes an app's business domains.
	PermLinksWrite   = Perm{Obj: "links", Act: "write"}
	PermDomainsWrite = Perm{Obj: "domains", Act: "write"}

	PermReleasePrepare = Perm{Obj: "release", Act: "prepare"}
	PermReleaseApprove = Perm{Obj: "release", Act: "approve"}

	PermCampaignsRead    = Perm{Obj: "campaigns", Act: "read"}
	PermCampaignsWrite   = Perm{Obj: "campaigns", Act: "write"}
	PermCampaignsApprove = Perm{Obj: "campaigns", Act: "approve"}

	PermTenantsRead  = Perm{Obj: "tenants", Act: "read"}
	PermTenantsWrite = Perm{Obj: "tenants", Act: "write"}

	PermStaffRead  = Perm{Obj: "staff", Act: "read"}
	PermStaffWrite = Perm{Obj: "staff", Act: "write"}

	PermWeChatRead  = Perm{Obj: "wechat", Act: "read"}
	PermWeChatWrite = Perm{Obj: "wechat", Act: "write"}

	PermTemplatesRead  = Perm{Obj: "templates", Act: "read"}
	PermTemplatesWrite = Perm{Obj: "templates", Act: "write"}

	// PermSiteFilesWrite uploads and removes the files served at the web
	// root (domain verification): admins only.
	PermSiteFilesWrite = Perm{Obj: "site_files", Act: "write"}

	// PermAPIKeysWrite creates, lists and revokes API keys: tenant owners
	// (tenant keys), staff admins (platform keys).
	PermAPIKeysWrite = Perm{Obj: "api_keys", Act: "write"}
	// PermWebhooksManage sees and changes event delivery endpoints and
	// their delivery logs: tenant owners (their tenant's), staff admins
	// (the platform's).
	PermWebhooksManage = Perm{Obj: "webhooks", Act: "manage"}
)

// Named lists every named permission.
var Named = []Perm{
	PermTenantRead, PermTenantWrite,
	PermMembersRead, PermMembersWrite,
	PermActivityRead,
	PermAppsRead, PermAppsAuthorize, PermAppsAssign,
	PermConfigWrite,
	PermLinksWrite, PermDomainsWrite,
	PermReleasePrepare, PermReleaseApprove,
	PermCampaignsRead, PermCampaignsWrite, PermCampaignsApprove,
	PermTenantsRead, PermTenantsWrite,
	PermStaffRead, PermStaffWrite,
	PermWeChatRead, PermWeChatWrite,
	PermTemplatesRead, PermTemplatesWrite,
	PermSiteFilesWrite,
	PermAPIKeysWrite,
	PermWebhooksManage,
}
