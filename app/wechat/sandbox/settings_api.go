package sandbox

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

var domainKinds = []struct{ key, scheme string }{
	{"requestdomain", "https"}, {"wsrequestdomain", "wss"}, {"uploaddomain", "https"},
	{"downloaddomain", "https"}, {"udpdomain", "udp"}, {"tcpdomain", "tcp"},
}

const maxDomainsPerKind = 200

// domainLists is modify_domain's request and answer.
type domainLists struct {
	RequestDomain   []string `json:"requestdomain"`
	WsRequestDomain []string `json:"wsrequestdomain"`
	UploadDomain    []string `json:"uploaddomain"`
	DownloadDomain  []string `json:"downloaddomain"`
	UDPDomain       []string `json:"udpdomain"`
	TCPDomain       []string `json:"tcpdomain"`
}

func (d *domainLists) byKind() map[string]*[]string {
	return map[string]*[]string{
		"requestdomain": &d.RequestDomain, "wsrequestdomain": &d.WsRequestDomain, "uploaddomain": &d.UploadDomain,
		"downloaddomain": &d.DownloadDomain, "udpdomain": &d.UDPDomain, "tcpdomain": &d.TCPDomain,
	}
}

// applyDomainAction applies add/delete/set to cur and returns the new list.
func applyDomainAction(action string, cur, in []string) []string {
	switch action {
	case "add":
		for _, d := range in {
			if !slices.Contains(cur, d) {
				cur = append(cur, d)
			}
		}
	case "delete":
		cur = slices.DeleteFunc(cur, func(d string) bool { return slices.Contains(in, d) })
	case "set":
		cur = slices.Clone(in)
	}
	return cur
}

func checkDomain(d, scheme string) bool {
	u, err := url.Parse(d)
	return err == nil && u.Scheme == scheme && u.Host != "" && (u.Path == "" || u.Path == "/")
}

func (s *Sandbox) apiModifyDomain(c *call) any {
	var req struct {
		Action string `json:"action"`
		domainLists
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	a := c.app
	if !slices.Contains([]string{"add", "delete", "set", "get"}, req.Action) {
		return failMsg(47001, "data format error: invalid action")
	}
	if req.Action != "get" {
		in := req.byKind()
		empty := true
		for _, k := range domainKinds {
			list := *in[k.key]
			if len(list) > 0 {
				empty = false
			}
			for _, d := range list {
				if !checkDomain(d, k.scheme) {
					return failMsg(47001, "data format error: invalid "+k.key+" "+d)
				}
				if len(s.opts.ServerDomains) > 0 && !slices.Contains(s.opts.ServerDomains, hostOf(d)) {
					return fail(85018)
				}
			}
		}
		if empty && req.Action != "set" {
			return fail(85017)
		}
		next := map[string][]string{}
		for _, k := range domainKinds {
			next[k.key] = applyDomainAction(req.Action, a.domains[k.key], *in[k.key])
			if len(next[k.key]) > maxDomainsPerKind {
				return fail(85016)
			}
		}
		a.domains = next
	}
	var out domainLists
	for k, p := range out.byKind() {
		*p = append([]string{}, a.domains[k]...)
	}
	return struct {
		okEnvelope
		domainLists
	}{ok(), out}
}

func hostOf(d string) string {
	if u, err := url.Parse(d); err == nil {
		return u.Hostname()
	}
	return d
}

func (s *Sandbox) apiSetWebviewDomain(c *call) any {
	var req struct {
		Action        string   `json:"action"`
		WebviewDomain []string `json:"webviewdomain"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	a := c.app
	switch req.Action {
	case "get":
		return struct {
			okEnvelope
			WebviewDomain []string `json:"webviewdomain"`
		}{ok(), append([]string{}, a.webview...)}
	case "add", "delete", "set":
		for _, d := range req.WebviewDomain {
			if !checkDomain(d, "https") {
				return failMsg(47001, "data format error: invalid webviewdomain "+d)
			}
		}
		a.webview = applyDomainAction(req.Action, a.webview, req.WebviewDomain)
		return nil
	}
	return failMsg(47001, "data format error: invalid action")
}

// privacy guideline (§7.2).
type privacyItem struct {
	Key  string `json:"privacy_key"`
	Text string `json:"privacy_text"`
}

type ownerSetting struct {
	ContactEmail         string `json:"contact_email,omitempty"`
	ContactPhone         string `json:"contact_phone,omitempty"`
	ContactQQ            string `json:"contact_qq,omitempty"`
	ContactWeixin        string `json:"contact_weixin,omitempty"`
	ExtFileMediaID       string `json:"ext_file_media_id,omitempty"`
	NoticeMethod         string `json:"notice_method"`
	StoreExpireTimestamp string `json:"store_expire_timestamp,omitempty"`
	StoreRegion          int    `json:"store_region,omitempty"`
}

type privacySetting struct {
	owner    ownerSetting
	settings []privacyItem
	sdk      []json.RawMessage
	updated  time.Time
}

// privacyDescs are the fixed texts of the privacy keys (privacy_desc_list).
var privacyDescs = map[string]string{
	"UserInfo": "用户信息（微信昵称、头像）", "Location": "位置信息", "Address": "地址", "Invoice": "发票信息",
	"RunData": "微信运动数据", "Record": "麦克风", "Album": "选中的照片或视频信息", "Camera": "摄像头",
	"PhoneNumber": "手机号码", "Contact": "通讯录（仅写入）权限", "DeviceInfo": "设备信息",
	"EXIDNumber": "身份证号码", "EXOrderInfo": "订单信息", "EXUserPublishContent": "发布内容",
	"EXUserFollowAcct": "所关注账号", "EXUserOpLog": "操作日志", "AlbumWriteOnly": "相册（仅写入）权限",
	"LicensePlate": "车牌号", "BlueTooth": "蓝牙", "CalendarWriteOnly": "日历（仅写入）权限",
	"Email": "邮箱", "MessageFile": "选中的文件",
}

func (s *Sandbox) apiSetPrivacySetting(c *call) any {
	var req struct {
		PrivacyVer  *int              `json:"privacy_ver"`
		Owner       *ownerSetting     `json:"owner_setting"`
		SettingList []privacyItem     `json:"setting_list"`
		SDK         []json.RawMessage `json:"sdk_privacy_info_list"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	ver := 2
	if req.PrivacyVer != nil {
		ver = *req.PrivacyVer
	}
	if ver != 1 && ver != 2 {
		return fail(86071)
	}
	o := req.Owner
	if o == nil || o.NoticeMethod == "" || (o.ContactEmail == "" && o.ContactPhone == "" && o.ContactQQ == "" && o.ContactWeixin == "") {
		return failMsg(47001, "data format error: owner_setting needs notice_method and a contact")
	}
	a := c.app
	if ver == 1 {
		live := a.privacy[1]
		if live == nil {
			return fail(86074)
		}
		if req.SettingList != nil {
			return failMsg(47001, "data format error: setting_list not allowed with privacy_ver 1")
		}
		live.owner, live.updated = *o, c.now
		return nil
	}
	if len(req.SettingList) == 0 {
		return failMsg(47001, "data format error: setting_list required")
	}
	for _, it := range req.SettingList {
		if _, known := privacyDescs[it.Key]; !known {
			return failMsg(47001, "data format error: unknown privacy_key "+it.Key)
		}
	}
	a.privacy[2] = &privacySetting{owner: *o, settings: slices.Clone(req.SettingList), sdk: req.SDK, updated: c.now}
	return nil
}

func (s *Sandbox) apiGetPrivacySetting(c *call) any {
	var req struct {
		PrivacyVer *int `json:"privacy_ver"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	ver := 2
	if req.PrivacyVer != nil {
		ver = *req.PrivacyVer
	}
	if ver != 1 && ver != 2 {
		return fail(86071)
	}
	a := c.app
	type settingOut struct {
		Key   string `json:"privacy_key"`
		Text  string `json:"privacy_text"`
		Label string `json:"privacy_label"`
	}
	type descItem struct {
		Key  string `json:"privacy_key"`
		Desc string `json:"privacy_desc"`
	}
	codeExist, privacyList := 0, []string{}
	if v := a.code.trial; v != nil {
		codeExist = 1
		for _, api := range v.template.draft.PrivacyAPIs {
			if k := privacyKeyOf[api]; k != "" && !slices.Contains(privacyList, k) {
				privacyList = append(privacyList, k)
			}
		}
	}
	settings, owner, updated := []settingOut{}, ownerSetting{}, int64(0)
	if p := a.privacy[ver]; p != nil {
		for _, it := range p.settings {
			settings = append(settings, settingOut{it.Key, it.Text, privacyDescs[it.Key]})
		}
		owner, updated = p.owner, p.updated.Unix()
	}
	descs := []descItem{}
	for k, d := range privacyDescs {
		descs = append(descs, descItem{k, d})
	}
	sort.Slice(descs, func(i, j int) bool { return descs[i].Key < descs[j].Key })
	return struct {
		okEnvelope
		CodeExist   int          `json:"code_exist"`
		PrivacyList []string     `json:"privacy_list"`
		SettingList []settingOut `json:"setting_list"`
		UpdateTime  int64        `json:"update_time"`
		Owner       ownerSetting `json:"owner_setting"`
		Desc        struct {
			List []descItem `json:"privacy_desc_list"`
		} `json:"privacy_desc"`
	}{okEnvelope: ok(), CodeExist: codeExist, PrivacyList: privacyList, SettingList: settings,
		UpdateTime: updated, Owner: owner, Desc: struct {
			List []descItem `json:"privacy_desc_list"`
		}{descs}}
}

// bind_tester: a wechatid starting with "nouser" does not exist (85001);
// one starting with "busytester" is a tester of too many apps (85003).
func (s *Sandbox) apiBindTester(c *call) any {
	var req struct {
		WeChatID string `json:"wechatid"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	a := c.app
	switch {
	case req.WeChatID == "":
		return failMsg(47001, "data format error: wechatid missing")
	case strings.HasPrefix(req.WeChatID, "nouser"):
		return fail(85001)
	case strings.HasPrefix(req.WeChatID, "busytester"):
		return fail(85003) // a tester of as many Mini Programs as WeChat allows
	case a.testers[req.WeChatID] != "":
		return fail(85004)
	case len(a.testers) >= s.opts.TesterLimit:
		return fail(85002)
	}
	sum := sha1.Sum([]byte(a.appID + "|" + req.WeChatID))
	a.testers[req.WeChatID] = hex.EncodeToString(sum[:])
	return struct {
		okEnvelope
		UserStr string `json:"userstr"`
	}{ok(), a.testers[req.WeChatID]}
}

func (s *Sandbox) apiUnbindTester(c *call) any {
	var req struct {
		WeChatID string `json:"wechatid"`
		UserStr  string `json:"userstr"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if req.WeChatID == "" && req.UserStr == "" {
		return failMsg(47001, "data format error: wechatid or userstr required")
	}
	for id, us := range c.app.testers {
		if id == req.WeChatID || us == req.UserStr {
			delete(c.app.testers, id)
		}
	}
	return nil
}

func (s *Sandbox) apiMemberAuth(c *call) any {
	var req struct {
		Action string `json:"action"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if req.Action != "get_experiencer" {
		return failMsg(47001, "data format error: invalid action")
	}
	type member struct {
		UserStr string `json:"userstr"`
	}
	members := []member{}
	for _, us := range c.app.testers {
		members = append(members, member{us})
	}
	sort.Slice(members, func(i, j int) bool { return members[i].UserStr < members[j].UserStr })
	return struct {
		okEnvelope
		Members []member `json:"members"`
	}{ok(), members}
}
