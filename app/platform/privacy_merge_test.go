package platform_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat"
)

// TestPreflightKeepsMerchantPrivacy: preflight adds the privacy keys the
// scan found missing and keeps everything the merchant set in WeChat by
// hand: other keys and their texts, and every owner field.
func TestPreflightKeepsMerchantPrivacy(t *testing.T) {
	rr := newRelRig(t, 2) // the draft that calls wx.getLocation and wx.chooseImage
	hand := wechat.PrivacySetting{PrivacyVer: wechat.PrivacyDev,
		OwnerSetting: wechat.OwnerSetting{ContactEmail: "shop@merchant.cn", ContactQQ: "12345", ContactWeixin: "laowang",
			ExtFileMediaID: "media-1", NoticeMethod: "公告", StoreExpireTimestamp: "30天", StoreRegion: []byte("1")},
		SettingList: []wechat.PrivacyItem{
			{PrivacyKey: "PhoneNumber", PrivacyText: "会员注册时核对手机号"}, // the scan misses it: added by hand
			{PrivacyKey: "Album", PrivacyText: "上传菜品照片"},           // the scan finds it: the merchant's text stays
		}}
	if err := rr.p.Client.SetPrivacySetting(rr.ctx, rr.appID, hand); err != nil {
		t.Fatal(err)
	}

	rel, err := rr.rel.PrepareRelease(rr.ctx, rr.tenantID, rr.appID, rr.tplID, "1.0.0", "loc", rr.dev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rr.rel.Commit(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); err != nil {
		t.Fatal(err)
	}
	rr.runJobs(t)
	rr.clock.Advance(25 * time.Second)
	rr.runJobs(t)
	if got := rr.get(t, rel.ID); got.State != model.RelPreflightFailed && got.State != model.RelAwaitingApproval {
		t.Fatalf("release is %s, want past preflight", got.State)
	}
	if n := rr.sb.CallCount("setprivacysetting"); n != 2 {
		t.Errorf("setprivacysetting called %d times, want the hand one and preflight's", n)
	}

	cur, err := rr.p.Client.PrivacySetting(rr.ctx, rr.appID, wechat.PrivacyDev)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	for _, it := range cur.SettingList {
		texts[it.PrivacyKey] = it.PrivacyText
	}
	want := map[string]string{"PhoneNumber": "会员注册时核对手机号", "Album": "上传菜品照片", "Location": "为你提供小程序内的相关服务"}
	for k, v := range want {
		if texts[k] != v {
			t.Errorf("setting %s = %q, want %q (all: %v)", k, texts[k], v, texts)
		}
	}
	if len(texts) != len(want) {
		t.Errorf("settings %v, want %v", texts, want)
	}
	if !reflect.DeepEqual(cur.OwnerSetting, hand.OwnerSetting) {
		t.Errorf("owner_setting = %+v (store_region %s), want the merchant's %+v", cur.OwnerSetting, cur.OwnerSetting.StoreRegion, hand.OwnerSetting)
	}
	if !slices.Contains(cur.PrivacyList, "Location") {
		t.Errorf("privacy_list %v lacks Location", cur.PrivacyList)
	}
}
