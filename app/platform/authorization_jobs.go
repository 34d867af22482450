package platform

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// AuthHooks let the onboarding flow act once an authorization push has
// been applied. Nil hooks are skipped.
type AuthHooks struct {
	// GrantApplied runs after an authorized or updateauthorized push's code
	// was exchanged and its tokens stored (or the redirect had already done
	// it). When set, it is responsible for fetching the app's details.
	GrantApplied func(ctx context.Context, appID, preAuthCode, authCode string) error
	// Unauthorized runs after an unauthorized push destroyed the tokens.
	Unauthorized func(ctx context.Context, appID string) error
}

func (p *Platform) registerJobs() {
	p.Jobs.Handle(JobAuthorized, p.jobAuthorized)
	p.Jobs.Handle(JobUnauthorized, p.jobUnauthorized)
}

// jobAuthorized follows up authorized and updateauthorized: exchange the
// code for tokens (which carries the new refresh token), then fetch the
// account's details. The redirect may already have exchanged the code, so
// a used code is fine when we hold tokens.
func (p *Platform) jobAuthorized(ctx context.Context, j store.Job) error {
	var pl AuthJob
	if err := json.Unmarshal(j.Payload, &pl); err != nil {
		return Permanent(err)
	}
	full, err := p.Store.PushFullXML(ctx, pl.PushID)
	if err != nil {
		return Permanent(err)
	}
	push, err := wechat.ParsePush([]byte(full))
	if err != nil {
		return Permanent(err)
	}
	var grant wechat.AuthorizationGrant
	switch t := push.(type) {
	case *wechat.Authorized:
		grant = t.AuthorizationGrant
	case *wechat.UpdateAuthorized:
		grant = t.AuthorizationGrant
	default:
		return Permanent(fmt.Errorf("push %d is %s, not an authorization", pl.PushID, push.Kind()))
	}
	info, err := p.Client.QueryAuth(ctx, grant.AuthorizationCode)
	switch {
	case wechat.IsCode(err, 61009, 61010):
		a, aerr := p.Store.Authorizer(ctx, pl.AppID)
		if aerr != nil || a.Status != store.AuthorizerAuthorized || !a.HasRefreshToken {
			return Permanent(err) // the code is gone and we hold nothing: the merchant must authorize again
		}
	case err != nil:
		return err
	default:
		applied, err := p.Store.SaveAuthorizerGrant(ctx, pl.AppID, store.AuthorizerGrant{
			AccessToken:     info.AuthorizerAccessToken,
			AccessExpiresAt: info.ExpiresAt,
			RefreshToken:    info.AuthorizerRefreshToken,
			PermissionSets:  info.PermissionSets(),
			NextRefreshAt:   p.Vault.Schedule(info.ExpiresAt),
			EventAt:         pl.CreateTime,
		})
		p.Vault.Evict(pl.AppID)
		if err != nil {
			return err
		}
		if !applied {
			return nil // a newer authorization event superseded this one
		}
	}
	if h := p.Hooks.GrantApplied; h != nil {
		return h(ctx, pl.AppID, grant.PreAuthCode, grant.AuthorizationCode)
	}
	d, err := p.Client.AuthorizerInfo(ctx, pl.AppID)
	if err != nil {
		return err
	}
	return p.Store.SaveAuthorizerInfo(ctx, pl.AppID, d.AuthorizerInfo.NickName, d.AuthorizerInfo.UserName, d.AuthorizationInfo.PermissionSets())
}

// jobUnauthorized marks the app unauthorized and destroys its tokens,
// unless a newer authorization arrived meanwhile.
func (p *Platform) jobUnauthorized(ctx context.Context, j store.Job) error {
	var pl AuthJob
	if err := json.Unmarshal(j.Payload, &pl); err != nil {
		return Permanent(err)
	}
	applied, err := p.Store.UnauthorizeAuthorizer(ctx, pl.AppID, pl.CreateTime)
	p.Vault.Evict(pl.AppID)
	if err != nil || !applied {
		return err
	}
	if h := p.Hooks.Unauthorized; h != nil {
		return h(ctx, pl.AppID)
	}
	return nil
}
