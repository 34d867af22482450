package sandbox

import (
	"fmt"
	"slices"
	"time"
)

// AccountKind is the type of a merchant account.
type AccountKind int

const (
	MiniProgram         AccountKind = iota
	ServiceAccount                  // 服务号 (an Official Account, authorized by mistake)
	SubscriptionAccount             // 订阅号
)

func (k AccountKind) String() string {
	switch k {
	case ServiceAccount:
		return "服务号"
	case SubscriptionAccount:
		return "订阅号"
	}
	return "小程序"
}

// PermissionSet is one of WeChat's permission sets (权限集).
type PermissionSet struct {
	ID   int
	Name string
}

// Permission sets offered on the authorization page. 18 holds code
// management; get_qrcode is also allowed under 86 (protocol doc §3.3).
var (
	MiniProgramPermissionSets = []PermissionSet{
		{17, "帐号管理权限"}, {18, "开发管理与数据分析权限"}, {19, "客服消息管理权限"},
		{25, "开放平台帐号管理权限"}, {30, "小程序基本信息设置权限"}, {31, "小程序认证权限"},
		{37, "附近地点权限"}, {40, "插件管理权限"}, {49, "云开发管理权限"}, {86, "小程序推广权限"},
		{88, "小程序链接管理权限"}, // URL Scheme / URL Link / Short Link (name unconfirmed, docs/links.md)
	}
	OfficialAccountPermissionSets = []PermissionSet{
		{1, "消息管理权限"}, {2, "用户管理权限"}, {3, "帐号服务权限"}, {4, "网页服务权限"},
		{7, "群发与通知权限"}, {11, "素材管理权限"}, {15, "自定义菜单权限"}, {24, "开放平台帐号管理权限"},
	}
)

func permissionSetsFor(k AccountKind) []PermissionSet {
	if k == MiniProgram {
		return MiniProgramPermissionSets
	}
	return OfficialAccountPermissionSets
}

func allSetIDs(k AccountKind) []int {
	var ids []int
	for _, p := range permissionSetsFor(k) {
		ids = append(ids, p.ID)
	}
	return ids
}

// AppSpec describes the merchant account an authorization grants. An empty
// AppID creates a new account from the other fields.
type AppSpec struct {
	AppID         string
	Kind          AccountKind
	Nickname      string
	PrincipalName string
	Verified      bool
	// PermissionSets granted; nil grants every set offered for the kind.
	PermissionSets []int
}

type category struct {
	First, Second             string
	FirstID, SecondID, Status int
}

// app is a merchant account known to the emulator.
type app struct {
	appID, userName, nickname, principal string
	kind                                 AccountKind
	verified                             bool
	categories                           []category
	created                              time.Time

	authorized   bool
	everAuth     bool
	authTime     time.Time
	perms        []int
	refreshToken string
	exchanged    bool // the latest auth code was exchanged (list shows refresh_token)
	tokens       tokenLine

	code     codeState
	domains  map[string][]string
	webview  []string
	testers  map[string]string // wechatid → userstr
	privacy  map[int]*privacySetting
	undoDays map[string]int
	options  map[string]string // authorizer options (location_report …)

	visitedAt time.Time // the visitor last opened the app (content checks, security_api.go)
	links     linkState // URL Schemes, URL Links, Short Links (links_api.go)
}

func (a *app) hasPerm(id int) bool { return slices.Contains(a.perms, id) }

var defaultCategories = []category{
	{First: "生活服务", Second: "丽人服务", FirstID: 150, SecondID: 627, Status: 1},
	{First: "工具", Second: "信息查询", FirstID: 287, SecondID: 612, Status: 1},
}

// newAppLocked creates an account from spec (AppID ignored).
func (s *Sandbox) newAppLocked(spec AppSpec) *app {
	appID := "wx" + s.randHexLocked(16)
	n := len(s.apps) + 1
	a := &app{
		appID:     appID,
		userName:  "gh_" + s.randHexLocked(12),
		nickname:  spec.Nickname,
		principal: spec.PrincipalName,
		kind:      spec.Kind,
		verified:  spec.Verified,
		created:   s.clock.Now(),
		domains:   map[string][]string{},
		testers:   map[string]string{},
		privacy:   map[int]*privacySetting{},
		undoDays:  map[string]int{},
		options:   map[string]string{},
	}
	if a.nickname == "" {
		a.nickname = fmt.Sprintf("测试小店%d", n)
	}
	if a.principal == "" {
		a.principal = fmt.Sprintf("沙箱测试商户%d有限公司", n)
	}
	if a.kind == MiniProgram {
		a.categories = slices.Clone(defaultCategories)
	}
	s.apps[appID] = a
	s.appOrder = append(s.appOrder, appID)
	return a
}

// AddApps creates n Mini Programs, each authorized with every permission set
// and its code already exchanged, and returns their appids. For tests and
// benchmarks that need a large fleet.
func (s *Sandbox) AddApps(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, n)
	for range n {
		a := s.newAppLocked(AppSpec{})
		s.grantLocked(a, allSetIDs(MiniProgram))
		a.exchanged = true
		ids = append(ids, a.appID)
	}
	return ids
}

// CreateApp adds an unauthorized account (to pick on the authorization page).
func (s *Sandbox) CreateApp(spec AppSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newAppLocked(spec).appID
}

// grantLocked records an authorization and issues a new refresh token; any
// earlier refresh token of the app is dead from now on (61023).
func (s *Sandbox) grantLocked(a *app, perms []int) {
	a.authorized, a.everAuth = true, true
	a.authTime = s.clock.Now()
	a.perms = slices.Clone(perms)
	a.refreshToken = s.opaqueLocked("refreshtoken@@@", 32)
	a.exchanged = false
}

// AppIDs lists every account the emulator holds, oldest first.
func (s *Sandbox) AppIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.appOrder)
}

// RefreshToken returns an app's current refresh token ("" if not authorized).
func (s *Sandbox) RefreshToken(appID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[appID]; a != nil && a.authorized {
		return a.refreshToken
	}
	return ""
}

// UserName returns the original id (gh_…) of an app.
func (s *Sandbox) UserName(appID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[appID]; a != nil {
		return a.userName
	}
	return ""
}
