package wechat

import (
	"context"
	"errors"
)

// BindTester adds a trial-version tester by WeChat id and returns the
// userstr that identifies them from now on.
// Endpoint: POST /wxa/bind_tester.
func (c *Client) BindTester(ctx context.Context, appID, wechatID string) (userstr string, err error) {
	var out struct {
		UserStr string `json:"userstr"`
	}
	err = c.call(ctx, post("/wxa/bind_tester", authAuthorizer, appID, struct {
		WechatID string `json:"wechatid"`
	}{wechatID}), &out)
	if err != nil {
		return "", err
	}
	return out.UserStr, nil
}

// Tester names a tester by WeChat id or by userstr; set exactly one.
type Tester struct {
	WechatID string `json:"wechatid,omitempty"`
	UserStr  string `json:"userstr,omitempty"`
}

// UnbindTester removes a tester.
// Endpoint: POST /wxa/unbind_tester.
func (c *Client) UnbindTester(ctx context.Context, appID string, t Tester) error {
	if (t.WechatID == "") == (t.UserStr == "") {
		return errors.New("wechat /wxa/unbind_tester: set exactly one of WechatID and UserStr")
	}
	return c.call(ctx, post("/wxa/unbind_tester", authAuthorizer, appID, t), nil)
}

// Testers returns the userstr of every bound tester.
// Endpoint: POST /wxa/memberauth (action get_experiencer).
func (c *Client) Testers(ctx context.Context, appID string) ([]string, error) {
	var out struct {
		Members []struct {
			UserStr string `json:"userstr"`
		} `json:"members"`
	}
	err := c.call(ctx, post("/wxa/memberauth", authAuthorizer, appID, struct {
		Action string `json:"action"`
	}{"get_experiencer"}), &out)
	if err != nil {
		return nil, err
	}
	users := make([]string, len(out.Members))
	for i, m := range out.Members {
		users[i] = m.UserStr
	}
	return users, nil
}
