package platform

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// Job kinds that follow authorization pushes up.
const (
	JobAuthorized   = "wechat.authorized"
	JobUnauthorized = "wechat.unauthorized"
)

// AuthJob is the payload of authorization jobs: the push to read (its
// sealed XML holds the auth code) and the event's CreateTime.
type AuthJob struct {
	PushID     int64  `json:"push_id"`
	AppID      string `json:"appid"`
	CreateTime int64  `json:"create_time"`
}

// jobAuthorized follows up authorized and updateauthorized: exchange the
// code for tokens (which carries the new refresh token), then fetch the
// account's details and bind it (Onboarding.GrantApplied). The redirect
// may already have exchanged the code, so a used code is fine when we hold
// tokens.
func (p *Platform) jobAuthorized(ctx context.Context, j store.Job) error {
	pl, full, err := p.jobPush(ctx, j)
	if err != nil {
		return err
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
			if p.Onboarding.RedirectHoldsCode(ctx, grant.PreAuthCode) {
				// The merchant's redirect exchanged this code first and is
				// storing the tokens and binding now (or retries on its own
				// job): it finishes the authorization, this job has nothing
				// left to do.
				p.Onboarding.log().Info("authorized push: the redirect exchanged the code first", "appid", pl.AppID)
				return nil
			}
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
	return p.Onboarding.GrantApplied(ctx, pl.AppID, grant.PreAuthCode, grant.AuthorizationCode)
}

// jobPush reads the payload of a job that follows a push up (AuthJob) and
// the push's full XML, sealed in the store (it may hold a code). Either
// failing is permanent: retrying cannot fix it.
func (p *Platform) jobPush(ctx context.Context, j store.Job) (AuthJob, string, error) {
	var pl AuthJob
	if err := json.Unmarshal(j.Payload, &pl); err != nil {
		return pl, "", Permanent(err)
	}
	full, err := p.Store.PushFullXML(ctx, pl.PushID)
	if err != nil {
		return pl, "", Permanent(err)
	}
	return pl, full, nil
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
	return p.Onboarding.Unauthorized(ctx, pl.AppID)
}
