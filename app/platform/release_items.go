package platform

import (
	"context"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat"
)

// AuditChoices returns what a release's audit items may name: the app's
// categories (get_category) and the template's pages, or, while those are
// not known yet, the committed code's (get_page). A WeChat error on
// get_category comes back as is; a failing get_page leaves pages empty.
func (r *Releases) AuditChoices(ctx context.Context, tenantID, releaseID int64) (model.Release, []wechat.Category, []string, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, nil, nil, err
	}
	var pages []string
	if tpl, err := r.Store.Template(ctx, rel.TemplateID); err == nil {
		pages = tpl.Pages
	}
	if len(pages) == 0 && rel.State != model.RelDraft {
		if p, err := r.WeChat.Pages(ctx, rel.AppID); err == nil {
			pages = p
		}
	}
	cats, err := r.WeChat.Categories(ctx, rel.AppID)
	return rel, cats, pages, err
}
