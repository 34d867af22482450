package platform

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/model"
)

// ChangeApp is one app of a change group.
type ChangeApp struct {
	AppID    string
	Nickname string
	Tenant   string
}

// ChangeGroup is a campaign's targets whose ext_json changes the same way
// against what each has live: what an approver approves, app by app.
type ChangeGroup struct {
	Changes []extconfig.Change
	Apps    []ChangeApp
	// Unrenderable: the app's config no longer renders for the template
	// (it will drop out of the approval when its release is prepared).
	Unrenderable bool
}

// PlannedChanges renders, for each target of c, the ext_json its release
// would carry now and diffs it against the app's live version (extAppid
// and extEnable, the same change for every app, left out), grouped by
// identical changes: the largest group first, then the exceptions.
func (e *Campaigns) PlannedChanges(ctx context.Context, c model.Campaign) ([]ChangeGroup, error) {
	apps, err := e.Store.CampaignApps(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*ChangeGroup{}
	var order []string
	for _, a := range apps {
		if a.State == model.CASkipped {
			continue
		}
		key, g := "", ChangeGroup{}
		ext, _, _, err := e.Rel.renderExtJSON(ctx, a.TenantID, a.AppID, c.TemplateID)
		var fe extconfig.FieldErrors
		var me *model.Error
		switch {
		case errors.As(err, &fe), errors.As(err, &me):
			key, g.Unrenderable = "!unrenderable", true
		case err != nil:
			return nil, err
		default:
			live := map[string]any{}
			if ar, err := e.Store.AppReleaseOf(ctx, a.TenantID, a.AppID); err == nil && ar.LiveID != 0 {
				if lr, err := e.Store.Release(ctx, a.TenantID, ar.LiveID); err == nil {
					live = extconfig.ExtDoc(lr.ExtJSON)
				}
			}
			g.Changes = extconfig.Diff(live, extconfig.ExtDoc(ext))
			b, _ := json.Marshal(g.Changes)
			key = string(b)
		}
		if byKey[key] == nil {
			byKey[key] = &g
			order = append(order, key)
		}
		byKey[key].Apps = append(byKey[key].Apps, ChangeApp{AppID: a.AppID, Nickname: a.Nickname, Tenant: a.TenantName})
	}
	out := make([]ChangeGroup, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	slices.SortStableFunc(out, func(a, b ChangeGroup) int { return len(b.Apps) - len(a.Apps) })
	return out, nil
}
