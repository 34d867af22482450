package wechat

import "strings"

// WeChat's automated test before a third-party platform may be published
// (全网发布检测说明, Open Platform → third-party platforms 2.0 → operation →
// releases_instructions): WeChat authorizes its dedicated test accounts to
// the platform and sends them messages; the platform must answer each as
// the doc says, within 5 seconds, encrypted as usual.

// PublishTestAccount is one of WeChat's dedicated test accounts.
type PublishTestAccount struct {
	Group    int    // 1 to 5
	AppID    string // authorizer appid
	UserName string // original id (gh_…), the ToUserName of its messages
	Official bool   // an Official Account; else a Mini Program
}

// PublishTestAccounts are the five groups, each an Official Account and a
// Mini Program, as the doc lists them. WeChat tests with a random group.
var PublishTestAccounts = []PublishTestAccount{
	{1, "wx570bc396a51b8ff8", "gh_3c884a361561", true},
	{1, "wxd101a85aa106f53e", "gh_8dad206e9538", false},
	{2, "wx9252c5e0bb1836fc", "gh_c0f28a78b318", true},
	{2, "wxc39235c15087f6f3", "gh_905ae9d01059", false},
	{3, "wx8e1097c5bc82cde9", "gh_3f222ed8d140", true},
	{3, "wx7720d01d4b2a4500", "gh_393666f1fdf4", false},
	{4, "wx14550af28c71a144", "gh_26128078e9ab", true},
	{4, "wx05d483572dcd5d8b", "gh_39abb5d4e1b7", false},
	{5, "wxa35b9c23cfe664eb", "gh_2b3713f184a6", true},
	{5, "wx5910277cae6fd970", "gh_7818dcb60240", false},
}

// IsPublishTestApp reports whether appID is one of the test accounts.
func IsPublishTestApp(appID string) bool {
	for _, a := range PublishTestAccounts {
		if a.AppID == appID {
			return true
		}
	}
	return false
}

// The test cases' fixed texts.
const (
	// PublishTestText is the text message answered by a passive reply of
	// PublishTestText + "_callback".
	PublishTestText = "TESTCOMPONENT_MSG_TYPE_TEXT"
	// PublishTestQueryAuthPrefix starts the text message carrying a
	// query_auth_code: answer empty at once, exchange the code
	// (api_query_auth), then send code + "_from_api" to the sender through
	// the customer-service message API with that authorizer's token.
	PublishTestQueryAuthPrefix = "QUERY_AUTH_CODE:"
	// PublishTestEventSuffix follows the event name in the passive reply to
	// an event (LOCATION → "LOCATIONfrom_callback").
	PublishTestEventSuffix = "from_callback"
	// PublishTestAPISuffix follows the code in the customer-service message.
	PublishTestAPISuffix = "_from_api"
)

// QueryAuthCodeOf returns the code of a QUERY_AUTH_CODE message.
func QueryAuthCodeOf(content string) (string, bool) {
	code, ok := strings.CutPrefix(content, PublishTestQueryAuthPrefix)
	return code, ok && code != ""
}
