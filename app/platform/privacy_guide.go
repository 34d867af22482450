package platform

import (
	"context"
	"slices"
	"strings"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// An app's user privacy guideline (用户隐私保护指引), as WeChat holds it:
// read it whole, change only what the merchant edited, and write it back
// with everything else as it was (ext_file_media_id, store_region, the SDK
// list). Preflight adds only what the privacy scan finds missing
// (mergePrivacy); this is where the merchant edits every key.

// PrivacyGuide is an app's guideline: the owner's settings, one row per
// privacy key WeChat knows (with WeChat's own description, in Chinese),
// whether the code uses it, and the purpose the app states.
type PrivacyGuide struct {
	Owner     wechat.OwnerSetting
	Rows      []PrivacyRow
	UpdatedAt int64 // update_time; 0 when never set
}

// PrivacyRow is one privacy key of the guideline.
type PrivacyRow struct {
	Key     string
	Desc    string // WeChat's privacy_desc
	UsedBy  bool   // in privacy_list: the code uses it, so it needs a purpose
	Purpose string // privacy_text; "" when the guideline leaves it out
}

// MaxPrivacyText bounds a purpose (WeChat states no limit).
const MaxPrivacyText = 200

// PrivacyGuide reads an app's guideline (the version the next upload
// uses, privacy_ver 2).
func (r *Releases) PrivacyGuide(ctx context.Context, tenantID int64, appID string) (PrivacyGuide, error) {
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return PrivacyGuide{}, err
	}
	cur, err := r.WeChat.PrivacySetting(ctx, appID, wechat.PrivacyDev)
	if err != nil {
		return PrivacyGuide{}, err
	}
	return guideOf(cur), nil
}

func guideOf(cur *wechat.PrivacySettingResult) PrivacyGuide {
	g := PrivacyGuide{Owner: cur.OwnerSetting, UpdatedAt: cur.UpdateTime}
	purpose := map[string]string{}
	for _, it := range cur.SettingList {
		purpose[it.PrivacyKey] = it.PrivacyText
	}
	seen := map[string]bool{}
	add := func(key, desc string) {
		if seen[key] {
			return
		}
		seen[key] = true
		g.Rows = append(g.Rows, PrivacyRow{Key: key, Desc: desc, UsedBy: slices.Contains(cur.PrivacyList, key), Purpose: purpose[key]})
	}
	for _, d := range cur.PrivacyDesc.PrivacyDescList {
		add(d.PrivacyKey, d.PrivacyDesc)
	}
	for _, it := range cur.SettingList { // a key WeChat set but did not describe stays
		add(it.PrivacyKey, it.PrivacyLabel)
	}
	// Keys the code uses first, then those with a purpose, then the rest.
	rank := func(r PrivacyRow) int {
		switch {
		case r.UsedBy:
			return 0
		case r.Purpose != "":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(g.Rows, func(a, b PrivacyRow) int { return rank(a) - rank(b) })
	return g
}

// PrivacyEdit is what the merchant may change: the contacts, how users are
// told of changes, the retention period, and each key's purpose (empty:
// left out of the guideline).
type PrivacyEdit struct {
	ContactEmail, ContactPhone, ContactQQ, ContactWeixin string
	NoticeMethod, StoreExpire                            string
	Purposes                                             map[string]string
}

// Check applies WeChat's rules: a notice method and at least one contact.
func (e PrivacyEdit) Check() error {
	errs := model.FieldErrors{}
	if strings.TrimSpace(e.NoticeMethod) == "" {
		errs.Add("notice_method", "form.required")
	}
	if e.ContactEmail == "" && e.ContactPhone == "" && e.ContactQQ == "" && e.ContactWeixin == "" {
		errs.Add("contact_email", "privacy.err.contact")
	}
	for k, p := range e.Purposes {
		if len([]rune(p)) > MaxPrivacyText {
			errs.Add("purpose."+k, "form.too_long")
		}
	}
	return errs.Err()
}

// SavePrivacyGuide writes the merchant's edit over the guideline WeChat
// holds now: keys the code uses must keep a purpose; everything the form
// does not show is written back unchanged. Logged.
func (r *Releases) SavePrivacyGuide(ctx context.Context, actor model.Actor, tenantID int64, appID string, e PrivacyEdit) error {
	if err := e.Check(); err != nil {
		return err
	}
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return err
	}
	cur, err := r.WeChat.PrivacySetting(ctx, appID, wechat.PrivacyDev)
	if err != nil {
		return err
	}
	g := guideOf(cur)
	errs := model.FieldErrors{}
	set := wechat.PrivacySetting{PrivacyVer: wechat.PrivacyDev, OwnerSetting: cur.OwnerSetting}
	o := &set.OwnerSetting
	o.ContactEmail, o.ContactPhone, o.ContactQQ, o.ContactWeixin = e.ContactEmail, e.ContactPhone, e.ContactQQ, e.ContactWeixin
	o.NoticeMethod, o.StoreExpireTimestamp = e.NoticeMethod, e.StoreExpire
	for _, row := range g.Rows {
		p, shown := e.Purposes[row.Key]
		if !shown {
			p = row.Purpose // not on the form: as it was
		}
		p = strings.TrimSpace(p)
		if p == "" {
			if row.UsedBy {
				errs.Add("purpose."+row.Key, "privacy.err.used")
			}
			continue
		}
		set.SettingList = append(set.SettingList, wechat.PrivacyItem{PrivacyKey: row.Key, PrivacyText: p})
	}
	if len(errs) > 0 {
		return errs
	}
	if len(set.SettingList) == 0 {
		return model.Errorf(model.CodeInvalid, "privacy.err.empty")
	}
	if err := r.WeChat.SetPrivacySetting(ctx, appID, set); err != nil {
		return err
	}
	keys := make([]string, 0, len(set.SettingList))
	for _, it := range set.SettingList {
		keys = append(keys, it.PrivacyKey)
	}
	return r.Store.Activity(ctx, actor, tenantID, store.ActPrivacySaved, appID, strings.Join(keys, ","))
}
