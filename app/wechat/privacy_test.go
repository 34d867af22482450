package wechat

import (
	"context"
	"slices"
	"testing"
)

func TestPrivacy(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","code_exist":1,"privacy_list":["Location"],
	  "setting_list":[{"privacy_key":"Location","privacy_text":"导航","privacy_label":"位置"}],"update_time":5,
	  "owner_setting":{"contact_email":"a@b.c","notice_method":"弹窗"},
	  "privacy_desc":{"privacy_desc_list":[{"privacy_key":"Location","privacy_desc":"位置信息"}]},
	  "without_auth_list":["wx.getLocation"],"without_conf_list":[]}`))
	ctx := context.Background()
	err := c.SetPrivacySetting(ctx, "wx", PrivacySetting{
		PrivacyVer:   PrivacyDev,
		OwnerSetting: OwnerSetting{ContactEmail: "a@b.c", NoticeMethod: "弹窗", StoreExpireTimestamp: "30天"},
		SettingList:  []PrivacyItem{{PrivacyKey: "Location", PrivacyText: "导航"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := fs.last(t)
	const want = `{"privacy_ver":2,"owner_setting":{"contact_email":"a@b.c","notice_method":"弹窗","store_expire_timestamp":"30天"},"setting_list":[{"privacy_key":"Location","privacy_text":"导航"}]}`
	if r.Path != "/cgi-bin/component/setprivacysetting" || r.Query.Get("access_token") != "A1" || r.Body != want {
		t.Errorf("request %s?%v\n %s\nwant\n %s", r.Path, r.Query, r.Body, want)
	}

	got, err := c.PrivacySetting(ctx, "wx", PrivacyLive)
	if err != nil {
		t.Fatal(err)
	}
	if got.CodeExist != 1 || got.SettingList[0].PrivacyLabel != "位置" || got.OwnerSetting.NoticeMethod != "弹窗" || got.PrivacyDesc.PrivacyDescList[0].PrivacyDesc != "位置信息" {
		t.Errorf("PrivacySetting = %+v", got)
	}
	if b := fs.last(t).Body; b != `{"privacy_ver":1}` {
		t.Errorf("getprivacysetting body = %s", b)
	}

	info, err := c.CodePrivacyInfo(ctx, "wx")
	if err != nil || !slices.Equal(info.WithoutAuthList, []string{"wx.getLocation"}) {
		t.Errorf("CodePrivacyInfo = %+v, %v", info, err)
	}
}
